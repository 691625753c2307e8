# فارسیِ «مدیر رویداد»: هر جمله‌ای که سرویس می‌نویسد (docs/api.md, "Languages").
# The same message ids and placeables as en.ftl; digits in numbers and dates are written in
# Persian by the service, and names, titles, links and codes are put in as they are.

## Dates and times

weekday-1 = دوشنبه
weekday-2 = سه‌شنبه
weekday-3 = چهارشنبه
weekday-4 = پنجشنبه
weekday-5 = جمعه
weekday-6 = شنبه
weekday-7 = یکشنبه
month-1 = ژانویه
month-2 = فوریه
month-3 = مارس
month-4 = آوریل
month-5 = مه
month-6 = ژوئن
month-7 = ژوئیه
month-8 = اوت
month-9 = سپتامبر
month-10 = اکتبر
month-11 = نوامبر
month-12 = دسامبر
month-solar-1 = فروردین
month-solar-2 = اردیبهشت
month-solar-3 = خرداد
month-solar-4 = تیر
month-solar-5 = مرداد
month-solar-6 = شهریور
month-solar-7 = مهر
month-solar-8 = آبان
month-solar-9 = آذر
month-solar-10 = دی
month-solar-11 = بهمن
month-solar-12 = اسفند
# 15 January 2027
date-gregorian = { $day } { $month } { $year }
date-solar-hijri = { $day } { $month } { $year }
date = { $weekday } { $solar-hijri } ({ $gregorian })
date-time = { $date }، ساعت { $time } ({ $zone })
date-span-one-day = { $date }، ساعت { $start } تا { $end } ({ $zone })
date-span = از { $start-date }، ساعت { $start } تا { $end-date }، ساعت { $end } ({ $zone })
time-left-days = { $count } روز دیگر
time-left-hours = { $count } ساعت دیگر
time-left-minutes = { $count } دقیقهٔ دیگر
quoted = «{ $text }»
no-time-set = زمانی تعیین نشده
no-place-set = مکانی تعیین نشده

## Codes (texts and emails)

code-subject = کد شما در مدیر رویداد: { $code }
code-prove-email = کد مدیر رویداد: { $code }. این کد نشانی ایمیل شما را تأیید می‌کند و { $minutes } دقیقه اعتبار دارد. آن را به کسی ندهید.
code-prove-mobile = کد مدیر رویداد: { $code }. این کد شمارهٔ شما را تأیید می‌کند و { $minutes } دقیقه اعتبار دارد. آن را به کسی ندهید.
code-login = کد مدیر رویداد: { $code }. با این کد وارد می‌شوید و { $minutes } دقیقه اعتبار دارد. آن را به کسی ندهید.

## Invitation emails

greeting = سلام { $name }،
someone = دوست عزیز
invite-subject = { $sender } شما را به { $title } دعوت کرده است
invite-subject-resent = یادآوری: { $sender } شما را به { $title } دعوت کرده است
invite-invited = { $sender } شما را به { $title } دعوت کرده است.
invite-resent = یادآوری: { $sender } شما را به { $title } دعوت کرده است و دعوت منتظر پاسخ شماست.
invite-wrote = { $sender } نوشته است:
invite-answer-by = تا { $when } پاسخ دهید.
invite-no-expiry = این دعوت منقضی نمی‌شود.
invite-open-link = برای پاسخ (بله، شاید یا نه) این پیوند را باز کنید:
invite-link-button = پاسخ به دعوت: بله، شاید یا نه
invite-link-yours = این پیوند فقط مال شماست و به جای شما پاسخ می‌دهد. در مدیر رویداد هم می‌توانید پاسخ دهید.
invite-answer-api = برای پاسخ، دعوت را در مدیر رویداد یا از راه API بپذیرید یا رد کنید:
invite-api-accept = برای پذیرفتن، یا
invite-api-reject = برای رد کردن.
invite-id = شناسهٔ دعوت: { $id }
promoted-subject = جایی باز شد: شما در { $title } هستید
promoted-body = خبر خوب: در { $title } جایی باز شد و شما در آن هستید. جای شما در فهرست انتظار به یک صندلی تبدیل شد و اکنون عضو رویداد هستید.
promoted-leave = اگر دیگر نمی‌توانید بیایید، در مدیر رویداد از رویداد خارج شوید تا نفر بعدی فهرست انتظار جای شما را بگیرد.
cancelled-subject = لغو شد: دعوت { $sender } به { $title }
cancelled-body = دعوت { $sender } از شما به { $title } لغو شد. لازم نیست کاری بکنید؛ اگر رویداد را به تقویم خود افزوده بودید، این ایمیل آن را برمی‌دارد.

## Invitation texts (SMS)

sms-invited = { $sender } شما را به { $title } در مدیر رویداد دعوت کرده است.{ $expiry } پاسخ: { $link }
sms-invited-sign-in = { $sender } شما را به { $title } در مدیر رویداد دعوت کرده است.{ $expiry } برای پاسخ با همین شماره وارد شوید یا ثبت‌نام کنید.
sms-resent = یادآوری: { $sender } شما را به { $title } در مدیر رویداد دعوت کرده است.{ $expiry } پاسخ: { $link }
sms-resent-sign-in = یادآوری: { $sender } شما را به { $title } در مدیر رویداد دعوت کرده است.{ $expiry } برای پاسخ با همین شماره وارد شوید یا ثبت‌نام کنید.
sms-answer-by = {" "}تا { $when } پاسخ دهید.
sms-cancelled = دعوت { $sender } از شما به { $title } در مدیر رویداد لغو شد.
sms-promoted = خبر خوب: در { $title } جایی باز شد و شما در آن هستید. اگر نمی‌توانید بیایید، در مدیر رویداد از رویداد خارج شوید.

## Change notices

notice-changed-subject = تغییر کرد: { $title }
notice-cancelled-subject = لغو شد: { $title }
notice-changed = { $title } تغییر کرده است. اکنون:
notice-cancelled = { $title } را میزبانش لغو کرده است. این رویداد چنین بود:
notice-when = زمان: { $when }
notice-where = مکان: { $place }
notice-changed-calendar = رویداد تقویمِ این ایمیل تقویم شما را به‌روز می‌کند.
notice-cancelled-calendar = رویداد تقویمِ این ایمیل آن را از تقویم شما برمی‌دارد.
notice-changed-sms = { $title } در مدیر رویداد تغییر کرد: { $when }، { $place }.
notice-cancelled-sms = { $title } در مدیر رویداد ({ $when }) را میزبانش لغو کرد.

## Reminders

reminder-subject = یادآوری: { $title }
reminder-starts = { $title } { $left } آغاز می‌شود.
reminder-accepted = شما می‌آیید. اگر دیگر نمی‌توانید بیایید، در مدیر رویداد از رویداد خارج شوید.
reminder-tentative = پاسخ شما «شاید» بود: در مدیر رویداد یا با پیوند دعوت‌تان بله یا نه بگویید.
reminder-pending = هنوز پاسخ نداده‌اید: در مدیر رویداد یا با پیوند دعوت‌تان پاسخ دهید.
reminder-sms = یادآوری: { $title } در مدیر رویداد { $left } آغاز می‌شود: { $when }{ $place }.
reminder-sms-place = ، { $place }
