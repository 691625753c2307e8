# Event Manager's English: every sentence the service writes (docs/api.md, "Languages").
# A translation is a file like this one with the same message ids and the same placeables
# (the tests refuse one that differs); docs/operations.md, "Adding a language", says how.

## Dates and times

# Mondays are 1, Sundays 7.
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
# The Solar Hijri months, Farvardin (1) to Esfand (12).
month-solar-1 = Farvardin
month-solar-2 = Ordibehesht
month-solar-3 = Khordad
month-solar-4 = Tir
month-solar-5 = Mordad
month-solar-6 = Shahrivar
month-solar-7 = Mehr
month-solar-8 = Aban
month-solar-9 = Azar
month-solar-10 = Dey
month-solar-11 = Bahman
month-solar-12 = Esfand
# 15 January 2027
date-gregorian = { $day } { $month } { $year }
date-solar-hijri = { $day } { $month } { $year }
# A day, in the calendars a language writes: English writes the Gregorian date alone
# (a language may use any of $weekday, $gregorian and $solar-hijri here).
date = { $weekday } { $gregorian }
# Friday 15 January 2027, 18:00 (Asia/Tehran)
date-time = { $date }, { $time } ({ $zone })
date-span-one-day = { $date }, { $start } – { $end } ({ $zone })
date-span = { $start-date }, { $start } – { $end-date }, { $end } ({ $zone })
time-left-days =
    { $count ->
        [one] in { $count } day
       *[other] in { $count } days
    }
time-left-hours =
    { $count ->
        [one] in { $count } hour
       *[other] in { $count } hours
    }
time-left-minutes =
    { $count ->
        [one] in { $count } minute
       *[other] in { $count } minutes
    }
# A title or name quoted in running text.
quoted = "{ $text }"
no-time-set = no time set
no-place-set = no place set

## Codes (texts and emails)

code-subject = Your Event Manager code: { $code }
code-prove-email = Event Manager code: { $code }. It proves this email address; valid { $minutes } minutes. Never share it.
code-prove-mobile = Event Manager code: { $code }. It proves this number; valid { $minutes } minutes. Never share it.
code-login = Event Manager code: { $code }. It logs you in; valid { $minutes } minutes. Never share it.

## Invitation emails

greeting = Hello { $name },
someone = there
invite-subject = { $sender } invited you to { $title }
invite-subject-resent = Reminder: { $sender } invited you to { $title }
invite-invited = { $sender } invited you to { $title }.
invite-resent = A reminder: { $sender } invited you to { $title }, and the invitation is waiting for your answer.
invite-wrote = { $sender } wrote:
invite-answer-by = Answer by { $when }.
invite-no-expiry = It does not expire.
invite-open-link = To answer (yes, maybe or no), open:
invite-link-button = Answer the invitation: yes, maybe or no
invite-link-yours = The link is yours alone: it answers for you. You can also answer in Event Manager.
invite-answer-api = To answer, accept or reject the invitation in Event Manager, or through the API:
invite-api-accept = to accept, or
invite-api-reject = to reject.
invite-id = The invitation's id: { $id }
promoted-subject = A seat opened up: you are in for { $title }
promoted-body = Good news: a seat opened up at { $title }, and you are in. Your place on the waitlist became a seat, and you are now a member of the event.
promoted-leave = If you can no longer come, leave the event in Event Manager, so that the next person on the waitlist gets your seat.
cancelled-subject = Cancelled: { $sender }'s invitation to { $title }
cancelled-body = Your invitation from { $sender } to { $title } was cancelled. There is nothing you need to do; if you added the event to your calendar, this email takes it out.

## Invitation texts (SMS)

sms-invited = { $sender } invited you to { $title } on Event Manager.{ $expiry } Answer: { $link }
sms-invited-sign-in = { $sender } invited you to { $title } on Event Manager.{ $expiry } Sign in or sign up with this number to answer.
sms-resent = Reminder: { $sender } invited you to { $title } on Event Manager.{ $expiry } Answer: { $link }
sms-resent-sign-in = Reminder: { $sender } invited you to { $title } on Event Manager.{ $expiry } Sign in or sign up with this number to answer.
# Put after the invitation's first sentence, with its leading space.
sms-answer-by = {" "}Answer by { $when }.
sms-cancelled = Your invitation from { $sender } to { $title } on Event Manager was cancelled.
sms-promoted = Good news: a seat opened up at { $title } and you are in. If you can no longer come, leave the event on Event Manager.

## Change notices

notice-changed-subject = Changed: { $title }
notice-cancelled-subject = Cancelled: { $title }
notice-changed = { $title } has changed. It is now:
notice-cancelled = { $title } has been cancelled by its host. It was:
notice-when = When:  { $when }
notice-where = Where: { $place }
notice-changed-calendar = The calendar entry in this email updates your calendar.
notice-cancelled-calendar = The calendar entry in this email removes it from your calendar.
notice-changed-sms = { $title } on Event Manager changed: { $when }, { $place }.
notice-cancelled-sms = { $title } on Event Manager ({ $when }) has been cancelled by its host.

## Reminders

reminder-subject = Reminder: { $title }
reminder-starts = { $title } starts { $left }.
reminder-accepted = You are going. If you can no longer come, leave the event on Event Manager.
reminder-tentative = You answered maybe: answer yes or no on Event Manager, or with the link in your invitation.
reminder-pending = You have not answered yet: answer on Event Manager, or with the link in your invitation.
reminder-sms = Reminder: { $title } on Event Manager starts { $left }: { $when }{ $place }.
# Put after the time in a reminder text, with its leading comma.
reminder-sms-place = , { $place }
