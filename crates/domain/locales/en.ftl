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

## API: the names of fields in sentences (Laravel's attributes)

field-title = title
field-description = description
field-location = location
field-starts_at = starts at
field-ends_at = ends at
field-time_zone = time zone
field-capacity = capacity
field-max_guests = max guests
field-waitlist = waitlist
field-rsvp_deadline = rsvp deadline
field-reminders = reminders
field-notify = notify
field-name = name
field-email = email
field-mobile = mobile
field-password = password
field-current_password = current password
field-locale = locale
field-code = code
field-channel = channel
field-login = login
field-status = status
field-guests = guests
field-comment = comment
field-role = role
field-user_id = user id
field-invitations = invitations
field-message = message
field-expires_in = expires in
field-event_id = event id
field-url = url
field-events = events
field-limit = limit
field-cursor = cursor
field-after = after

## API: validation (the 422 body's sentences, as Laravel writes them)

validation-invalid = The given data was invalid.
validation-and-more =
    { $count ->
        [one] { $first } (and { $count } more error)
       *[other] { $first } (and { $count } more errors)
    }
validation-required = The { $attribute } field is required.
validation-string = The { $attribute } must be a string.
validation-integer = The { $attribute } must be an integer.
validation-boolean = The { $attribute } field must be true or false.
validation-array = The { $attribute } must be an array.
validation-date = The { $attribute } must be a valid date.
validation-selected-invalid = The selected { $attribute } is invalid.
validation-email = The { $attribute } must be a valid email address.
validation-mobile = The { $attribute } must be a valid phone number.
validation-taken = The { $attribute } has already been taken.
validation-max-items = The { $attribute } must not have more than { $max } items.
validation-max-characters = The { $attribute } must not be greater than { $max } characters.
validation-min-characters = The { $attribute } must be at least { $min } characters.
validation-control-characters = The { $attribute } must not contain control characters.
validation-limit = The limit must be an integer between { $min } and { $max }.
validation-change-id = The { $attribute } must be a non-negative integer.
email-or-mobile-required = The email field is required when mobile is not present.
mobile-or-email-required = The mobile field is required when email is not present.
password-or-code-required = The password field is required when code is not present.
code-six-digits = The code must be 6 digits.
profile-empty = Give at least one of name, locale and password.
ends-before-starts = The ends at must be a date after or equal to starts at.
rsvp-deadline-after-start = The RSVP deadline must be at or before the start.
capacity-range = The capacity must be between 1 and { $max }.
max-guests-range = The max guests must be between 0 and { $max }.
guests-range = The guests must be between 0 and { $max }.
guests-none-allowed = This event allows no guests.
guests-at-most =
    { $max ->
        [one] This event allows at most { $max } guest.
       *[other] This event allows at most { $max } guests.
    }
notify-invalid = The notify field must be all or none.
reminders-not-list = The reminders must be a list of {"{"}before, to{"}"} objects.
reminders-too-many = An event has at most 5 reminders.
reminders-duplicate = The same reminder is given twice.
reminder-not-object = Reminder { $number } must be an object with the strings before and to.
reminder-before-invalid = Reminder { $number }: before must be a whole number of minutes (m), hours (h) or days (d), from 5m to 30d.
reminder-to-invalid = Reminder { $number }: to must be accepted, tentative or pending.
time-zone-invalid = The time zone must be an IANA time zone name, such as Asia/Tehran.
time-zone-not-string = The time zone must be a string.
expires-in-invalid = The expires in must be a whole number of minutes, hours or days (m, h or d) from 1h to 30d.
event-id-invalid = The event id must be a valid UUID.
owner-role-fixed = The owner's role cannot be changed.
owner-cannot-leave = The owner cannot leave the event.
current-password-incorrect = The current password is incorrect.
password-or-code-incorrect = The password or code is incorrect.
contact-unchanged = This { $attribute } is already yours and proven.
prove-other-first = Prove your { $other } before removing your { $attribute }.
nothing-to-prove = The account has no contact of this kind left to prove.
sms-region-not-allowed = Codes are not sent by SMS to numbers of this country.
contact-proven-elsewhere = Another account has proven this contact.
code-wrong = The code is wrong or has expired.
webhook-events-empty = The events must have at least 1 item.
url-invalid = The url must be a valid URL.
url-https = The url must start with https://.
url-http = The url must start with http:// or https://.
url-credentials = The url must not contain a user name or password.
url-fragment = The url must not contain a fragment (#…).
url-not-public = The url must point to a public address.
url-port = The url's port is not one webhooks may use (443 and 8443 unless the service allows others).

## API: errors

unauthenticated = Unauthenticated.
invalid-credentials = These credentials do not match our records.
method-not-allowed = The method is not allowed for this URL.
not-found-route = The requested resource was not found.
not-found-event = Event not found.
not-found-member = Member not found.
not-found-invitation = Invitation not found.
not-found-webhook = Webhook not found.
not-found-calendar-feed = No such calendar feed.
no-calendar-feed = You have no calendar feed.
forbidden-edit-event = Only the event's owner and co-hosts can edit it.
forbidden-delete-event = Only the event's owner can delete it.
forbidden-change-roles = Only the event's owner can change roles.
forbidden-owner-party = The owner takes no seat and brings no guests.
forbidden-remove-member = The owner removes anyone, co-hosts remove members, members only themselves.
forbidden-send-invitations = Only the event's owner and co-hosts can send invitations.
forbidden-answer = Only the invitee can answer this invitation.
forbidden-manage = Only the sender and the event's owner and co-hosts can cancel or resend this invitation.
forbidden-list-invitations = Only the event's owner and co-hosts can list its invitations.
invitation-already-answered = This invitation has already been answered.
invitation-expired = This invitation has expired.
invitation-cancelled = This invitation has been cancelled.
event-full = The event is full.
rsvp-closed = Answers to this event closed at { $at }.
no-start-time = This event has no start time yet, so it has no calendar entry.
capacity-below-seats-taken = { $taken } seats are taken already; the capacity cannot go below that.
payload-too-large = The request body must not be larger than { $kib } KiB.
too-many-requests = Too many attempts. Please try again later.
idempotency-key-in-flight = A request with this Idempotency-Key is still being processed. Retry in a moment.
idempotency-key-reused = This Idempotency-Key was already used with another request.
idempotency-key-invalid = The Idempotency-Key header must be 1 to 255 visible ASCII characters.
precondition-failed = The resource was changed since you read it; fetch it again.
webhook-limit-reached = You already have { $max } webhooks; delete one to register another.
webhook-disabled = This webhook was disabled; delete it and register the URL again.
unavailable = Service temporarily unavailable.
server-error = Server Error.
error-unknown = Something went wrong.
body-not-object = The request body must be a JSON object.
body-invalid = The request body is invalid: { $error }
body-not-json-type = The request body must be sent as application/json.
body-duplicate-key = The request body names a key twice: { $error }.
body-not-json = The request body is not valid JSON: { $error }
body-unreadable = The request body could not be read.
query-invalid = The query string is invalid: { $error }
login-code-sent = If an account has proven this login, a code is on its way.
link-dead = This link does not open an invitation: it is mistyped, or its invitation was answered, cancelled or has expired.
link-held = This invitation waits for its email or mobile to be proven: sign in or sign up with it, prove it, and answer in the app.

## API: why an entry of a send was not sent (docs/api.md, "Ignore reasons")

ignored-not-a-user = No user has this email or mobile.
ignored-invalid-contact = This is neither a valid email address nor a valid mobile number.
ignored-self = You cannot invite yourself.
ignored-member = This user is already a member of the event.
ignored-invited = This user already has a pending invitation to the event.
ignored-rejected-last = This user rejected their last invitation to the event.
ignored-duplicate = This user was already reached by an earlier entry of this request.
ignored-recipient-limit = This contact has received as many invitations as it may today.
ignored-quota-exceeded = You have named as many contacts as you may today.
unsubscribe-line = Not for you, or too many? Stop invitations to this address:
unsubscribe-button = Stop these invitations

## API: the titles of problem details, by code

title-malformed_request = Malformed request.
title-invalid_credentials = Invalid credentials.
title-forbidden = Forbidden.
title-not_found = Not found.
title-method_not_allowed = Method not allowed.
title-invitation_already_answered = Invitation already answered.
title-invitation_expired = Invitation expired.
title-invitation_cancelled = Invitation cancelled.
title-event_full = Event full.
title-rsvp_closed = RSVP closed.
title-capacity_below_seats_taken = Capacity below seats taken.
title-no_start_time = No start time.
title-payload_too_large = Request body too large.
title-too_many_requests = Too many requests.
title-idempotency_key_in_flight = Idempotency key in use.
title-idempotency_key_reused = Idempotency key reused.
title-webhook_limit_reached = Webhook limit reached.
title-webhook_disabled = Webhook disabled.
title-request_timeout = Request timeout.
title-precondition_failed = Precondition failed.
title-unauthenticated = Unauthenticated.
title-validation_failed = The given data was invalid.
title-server_error = Server error.
title-service_unavailable = Service unavailable.

## The answer page (docs/api.md, "Answering from a message")

page-brand = Event Manager
page-card = The invitation
page-heading = { $sender } invited you
page-when = When
page-where = Where
page-from = From
page-your-answer = Your answer
page-guests = Guests
page-your-word = Your word
page-answer-by = Answer by
page-guests-label = Guests you bring (up to { $max })
page-comment-label = A word to the hosts (optional)
page-accept = Accept
page-maybe = Maybe
page-decline = Decline
page-link-yours = This link is yours alone: it answers for you. You can also answer in the Event Manager app.
page-dead-heading = This link no longer works
page-dead-footer = { $reason } Sign in to Event Manager to see your invitations.
page-wait-heading = Please wait a moment
page-wait = Too many attempts from your network. Please try again in { $seconds } seconds.
page-failed-heading = Something went wrong
page-failed-footer = Please try again in a moment.
page-csrf = This page was open too long, or came from elsewhere: nothing was answered. Please answer again.
page-accepted-heading = You're going
page-accepted = Thanks! Your answer is saved: you are in.
page-waitlisted-heading = You're on the waitlist
page-waitlisted = The event is full. You are on its waitlist, and you will get a message if a seat opens up.
page-tentative-heading = You said maybe
page-tentative = Your answer is saved. You can still accept or decline here until the invitation closes.
page-rejected-heading = You declined
page-rejected = Your answer is saved. The host will know you can't come.
page-done = This link has done its work. To change your answer, use the Event Manager app.
status-pending = Not answered yet
status-tentative = Maybe
status-accepted = Accepted
status-waitlisted = On the waitlist
status-waitlisted-at = On the waitlist (number { $place })
status-rejected = Declined
status-cancelled = Cancelled by the host
status-expired = Expired

## The page of an unsubscribe link
unsubscribe-heading = Stop invitation messages
unsubscribe-about = Invitation messages to
unsubscribe-sender = Stop invitations from { $sender }
unsubscribe-everyone = Stop invitations from everyone
unsubscribe-someone = this sender
unsubscribe-stopped-sender = Done: no more invitation messages from { $sender } will come to this address.
unsubscribe-stopped-everyone = Done: no more invitation messages from anyone will come to this address.
unsubscribe-invalid = This link does not work. Use the link in the email as it is.
unsubscribe-footer = Invitations still wait for you in Event Manager; only the messages stop.
