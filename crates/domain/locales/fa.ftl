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

## API: the names of fields in sentences (Laravel's attributes)

field-title = عنوان
field-description = توضیحات
field-location = مکان
field-starts_at = زمان شروع
field-ends_at = زمان پایان
field-time_zone = منطقهٔ زمانی
field-capacity = ظرفیت
field-max_guests = بیشترین شمار مهمان
field-waitlist = فهرست انتظار
field-rsvp_deadline = مهلت پاسخ
field-reminders = یادآوری‌ها
field-notify = اطلاع‌رسانی
field-name = نام
field-email = ایمیل
field-mobile = شمارهٔ همراه
field-password = گذرواژه
field-current_password = گذرواژهٔ کنونی
field-locale = زبان
field-code = کد
field-channel = راه ارتباطی
field-login = نام کاربری
field-status = وضعیت
field-guests = مهمانان
field-comment = یادداشت
field-role = نقش
field-user_id = شناسهٔ کاربر
field-invitations = دعوت‌ها
field-message = پیام
field-expires_in = مدت اعتبار
field-event_id = شناسهٔ رویداد
field-url = نشانی اینترنتی
field-events = رویدادها
field-limit = حد
field-cursor = نشانگر
field-after = پس از

## API: validation (the 422 body's sentences, as Laravel writes them)

validation-invalid = داده‌های فرستاده‌شده نامعتبرند.
validation-and-more = { $first } (و { $count } خطای دیگر)
validation-required = پر کردن فیلد { $attribute } الزامی است.
validation-string = { $attribute } باید متن باشد.
validation-integer = { $attribute } باید عدد صحیح باشد.
validation-boolean = فیلد { $attribute } باید true یا false باشد.
validation-array = { $attribute } باید آرایه باشد.
validation-date = { $attribute } باید تاریخ معتبر باشد.
validation-selected-invalid = { $attribute } انتخاب‌شده نامعتبر است.
validation-email = { $attribute } باید نشانی ایمیل معتبر باشد.
validation-mobile = { $attribute } باید شمارهٔ تلفن معتبر باشد.
validation-taken = این { $attribute } پیش‌تر گرفته شده است.
validation-max-items = { $attribute } نباید بیش از { $max } مورد داشته باشد.
validation-max-characters = { $attribute } نباید بیش از { $max } نویسه باشد.
validation-min-characters = { $attribute } باید دست‌کم { $min } نویسه باشد.
validation-control-characters = { $attribute } نباید نویسهٔ کنترلی داشته باشد.
validation-limit = حد باید عدد صحیحی از { $min } تا { $max } باشد.
validation-change-id = { $attribute } باید عدد صحیح نامنفی باشد.
email-or-mobile-required = وقتی شمارهٔ همراه نیست، پر کردن فیلد ایمیل الزامی است.
mobile-or-email-required = وقتی ایمیل نیست، پر کردن فیلد شمارهٔ همراه الزامی است.
password-or-code-required = وقتی کد نیست، پر کردن فیلد گذرواژه الزامی است.
code-six-digits = کد باید ۶ رقم باشد.
profile-empty = دست‌کم یکی از نام، زبان و گذرواژه را بدهید.
ends-before-starts = زمان پایان باید هم‌زمان با زمان شروع یا پس از آن باشد.
rsvp-deadline-after-start = مهلت پاسخ باید پیش از شروع یا هم‌زمان با آن باشد.
capacity-range = ظرفیت باید از ۱ تا { $max } باشد.
max-guests-range = بیشترین شمار مهمان باید از ۰ تا { $max } باشد.
guests-range = شمار مهمانان باید از ۰ تا { $max } باشد.
guests-none-allowed = این رویداد مهمان همراه نمی‌پذیرد.
guests-at-most = این رویداد دست‌بالا { $max } مهمان همراه می‌پذیرد.
notify-invalid = فیلد اطلاع‌رسانی باید all یا none باشد.
reminders-not-list = یادآوری‌ها باید فهرستی از اشیای {"{"}before, to{"}"} باشند.
reminders-too-many = هر رویداد دست‌بالا ۵ یادآوری دارد.
reminders-duplicate = یک یادآوری دو بار آمده است.
reminder-not-object = یادآوری { $number } باید شیئی با رشته‌های before و to باشد.
reminder-before-invalid = یادآوری { $number }: before باید شمار درستی از دقیقه (m)، ساعت (h) یا روز (d) باشد، از 5m تا 30d.
reminder-to-invalid = یادآوری { $number }: to باید accepted، tentative یا pending باشد.
time-zone-invalid = منطقهٔ زمانی باید نام IANA باشد، مانند Asia/Tehran.
time-zone-not-string = منطقهٔ زمانی باید متن باشد.
expires-in-invalid = مدت اعتبار باید شمار درستی از دقیقه، ساعت یا روز (m، h یا d) باشد، از 1h تا 30d.
event-id-invalid = شناسهٔ رویداد باید UUID معتبر باشد.
owner-role-fixed = نقش مالک رویداد تغییر نمی‌کند.
owner-cannot-leave = مالک رویداد نمی‌تواند آن را ترک کند.
current-password-incorrect = گذرواژهٔ کنونی نادرست است.
password-or-code-incorrect = گذرواژه یا کد نادرست است.
contact-unchanged = این { $attribute } هم‌اکنون از آنِ شماست و تأیید شده است.
prove-other-first = پیش از برداشتن { $attribute }، { $other } خود را تأیید کنید.
nothing-to-prove = این حساب راه ارتباطی تأییدنشده‌ای از این نوع ندارد.
sms-region-not-allowed = کد با پیامک به شماره‌های این کشور فرستاده نمی‌شود.
contact-proven-elsewhere = حساب دیگری این راه ارتباطی را تأیید کرده است.
code-wrong = کد نادرست است یا منقضی شده است.
webhook-events-empty = رویدادها باید دست‌کم ۱ مورد داشته باشند.
url-invalid = نشانی اینترنتی باید معتبر باشد.
url-https = نشانی اینترنتی باید با https:// آغاز شود.
url-http = نشانی اینترنتی باید با http:// یا https:// آغاز شود.
url-credentials = نشانی اینترنتی نباید نام کاربری یا گذرواژه داشته باشد.
url-fragment = نشانی اینترنتی نباید بخش # داشته باشد.
url-not-public = نشانی اینترنتی باید به نشانی‌ای عمومی اشاره کند.
url-port = وب‌هوک‌ها نمی‌توانند از درگاه این نشانی استفاده کنند (443 و 8443، مگر سرویس درگاه‌های دیگری را بپذیرد).

## API: errors

unauthenticated = احراز هویت نشده است.
invalid-credentials = این اطلاعات ورود با سوابق ما جور نیست.
method-not-allowed = این روش برای این نشانی پذیرفته نیست.
not-found-route = منبع درخواستی پیدا نشد.
not-found-event = رویداد پیدا نشد.
not-found-member = عضو پیدا نشد.
not-found-invitation = دعوت پیدا نشد.
not-found-webhook = وب‌هوک پیدا نشد.
not-found-calendar-feed = چنین خوراک تقویمی وجود ندارد.
no-calendar-feed = شما خوراک تقویم ندارید.
forbidden-edit-event = فقط مالک رویداد و میزبانان همکار می‌توانند آن را ویرایش کنند.
forbidden-delete-event = فقط مالک رویداد می‌تواند آن را حذف کند.
forbidden-change-roles = فقط مالک رویداد می‌تواند نقش‌ها را تغییر دهد.
forbidden-owner-party = مالک رویداد صندلی نمی‌گیرد و مهمان همراه نمی‌آورد.
forbidden-remove-member = مالک هر کسی را برمی‌دارد، میزبانان همکار اعضا را، و اعضا فقط خودشان را.
forbidden-send-invitations = فقط مالک رویداد و میزبانان همکار می‌توانند دعوت بفرستند.
forbidden-answer = فقط دعوت‌شده می‌تواند به این دعوت پاسخ دهد.
forbidden-manage = فقط فرستنده و مالک و میزبانان همکار رویداد می‌توانند این دعوت را لغو کنند یا دوباره بفرستند.
forbidden-list-invitations = فقط مالک رویداد و میزبانان همکار می‌توانند دعوت‌های آن را ببینند.
invitation-already-answered = به این دعوت پیش‌تر پاسخ داده شده است.
invitation-expired = این دعوت منقضی شده است.
invitation-cancelled = این دعوت لغو شده است.
event-full = ظرفیت رویداد پر است.
rsvp-closed = پاسخ به این رویداد در { $at } بسته شد.
no-start-time = این رویداد هنوز زمان شروع ندارد، پس رویداد تقویمی ندارد.
capacity-below-seats-taken = { $taken } صندلی پیش‌تر گرفته شده است؛ ظرفیت نمی‌تواند کمتر از آن شود.
payload-too-large = بدنهٔ درخواست نباید بیش از { $kib } کیلوبایت باشد.
too-many-requests = تلاش‌ها بیش از اندازه است. لطفاً بعداً دوباره امتحان کنید.
idempotency-key-in-flight = درخواستی با این Idempotency-Key هنوز در حال انجام است. کمی بعد دوباره بفرستید.
idempotency-key-reused = این Idempotency-Key پیش‌تر با درخواست دیگری به کار رفته است.
idempotency-key-invalid = سرآیند Idempotency-Key باید ۱ تا ۲۵۵ نویسهٔ دیدنی ASCII باشد.
precondition-failed = این منبع پس از خواندن شما تغییر کرده است؛ دوباره آن را بخوانید.
webhook-limit-reached = شما هم‌اکنون { $max } وب‌هوک دارید؛ برای ثبت وب‌هوک تازه یکی را حذف کنید.
webhook-disabled = این وب‌هوک غیرفعال شده است؛ آن را حذف و نشانی را دوباره ثبت کنید.
unavailable = سرویس موقتاً در دسترس نیست.
server-error = خطای سرور.
error-unknown = مشکلی پیش آمد.
body-not-object = بدنهٔ درخواست باید یک شیء JSON باشد.
body-invalid = بدنهٔ درخواست نامعتبر است: { $error }
body-not-json-type = بدنهٔ درخواست باید با نوع application/json فرستاده شود.
body-duplicate-key = بدنهٔ درخواست یک کلید را دو بار آورده است: { $error }.
body-not-json = بدنهٔ درخواست JSON معتبر نیست: { $error }
body-unreadable = بدنهٔ درخواست خوانده نشد.
query-invalid = رشتهٔ پرس‌وجو نامعتبر است: { $error }
login-code-sent = اگر حسابی این نام کاربری را تأیید کرده باشد، کدی در راه است.
link-dead = این پیوند دعوتی را باز نمی‌کند: یا نادرست نوشته شده، یا به دعوتش پاسخ داده شده، یا لغو یا منقضی شده است.
link-held = این دعوت منتظر تأیید ایمیل یا شمارهٔ همراهش است: با آن وارد شوید یا ثبت‌نام کنید، آن را تأیید کنید و در برنامه پاسخ دهید.

## API: why an entry of a send was not sent (docs/api.md, "Ignore reasons")

ignored-not-a-user = هیچ کاربری این ایمیل یا شمارهٔ همراه را ندارد.
ignored-invalid-contact = این نه نشانی ایمیل معتبر است و نه شمارهٔ همراه معتبر.
ignored-self = نمی‌توانید خودتان را دعوت کنید.
ignored-member = این کاربر هم‌اکنون عضو رویداد است.
ignored-invited = این کاربر دعوتی بی‌پاسخ به این رویداد دارد.
ignored-rejected-last = این کاربر دعوت پیشین خود به این رویداد را رد کرده است.
ignored-duplicate = این کاربر با مورد دیگری از همین درخواست دعوت شده است.
ignored-recipient-limit = این راه ارتباطی امروز به اندازهٔ مجاز دعوت گرفته است.
ignored-quota-exceeded = امروز به اندازهٔ مجاز راه ارتباطی نام برده‌اید.
unsubscribe-line = این دعوت برای شما نیست یا زیاد است؟ دعوت‌ها به این نشانی را متوقف کنید:
unsubscribe-button = توقف این دعوت‌ها

## API: the titles of problem details, by code

title-malformed_request = درخواست بدساخت.
title-invalid_credentials = اطلاعات ورود نادرست.
title-forbidden = دسترسی ممنوع.
title-not_found = پیدا نشد.
title-method_not_allowed = روش پذیرفته نیست.
title-invitation_already_answered = دعوت پیش‌تر پاسخ گرفته است.
title-invitation_expired = دعوت منقضی شده است.
title-invitation_cancelled = دعوت لغو شده است.
title-event_full = رویداد پر است.
title-rsvp_closed = پاسخ‌گیری بسته است.
title-capacity_below_seats_taken = ظرفیت کمتر از صندلی‌های گرفته‌شده.
title-no_start_time = بدون زمان شروع.
title-payload_too_large = بدنهٔ درخواست بیش از اندازه بزرگ است.
title-too_many_requests = درخواست‌ها بیش از اندازه است.
title-idempotency_key_in_flight = کلید Idempotency در حال استفاده است.
title-idempotency_key_reused = کلید Idempotency دوباره به کار رفته است.
title-webhook_limit_reached = به سقف وب‌هوک‌ها رسیده‌اید.
title-webhook_disabled = وب‌هوک غیرفعال شده است.
title-request_timeout = زمان درخواست سر آمد.
title-precondition_failed = پیش‌شرط برقرار نیست.
title-unauthenticated = احراز هویت نشده است.
title-validation_failed = داده‌های فرستاده‌شده نامعتبرند.
title-server_error = خطای سرور.
title-service_unavailable = سرویس در دسترس نیست.

## The answer page (docs/api.md, "Answering from a message")

page-brand = مدیر رویداد
page-card = دعوت
page-heading = { $sender } شما را دعوت کرده است
page-when = زمان
page-where = مکان
page-from = از طرف
page-your-answer = پاسخ شما
page-guests = مهمانان همراه
page-your-word = یادداشت شما
page-answer-by = مهلت پاسخ
page-guests-label = مهمانان همراه شما (تا { $max } نفر)
page-comment-label = پیامی برای میزبانان (اختیاری)
page-accept = می‌آیم
page-maybe = شاید
page-decline = نمی‌آیم
page-link-yours = این پیوند فقط مال شماست و به جای شما پاسخ می‌دهد. در برنامهٔ مدیر رویداد هم می‌توانید پاسخ دهید.
page-dead-heading = این پیوند دیگر کار نمی‌کند
page-dead-footer = { $reason } برای دیدن دعوت‌هایتان وارد مدیر رویداد شوید.
page-wait-heading = لطفاً کمی صبر کنید
page-wait = تلاش‌ها از شبکهٔ شما بیش از اندازه است. لطفاً { $seconds } ثانیهٔ دیگر دوباره امتحان کنید.
page-failed-heading = مشکلی پیش آمد
page-failed-footer = لطفاً کمی بعد دوباره امتحان کنید.
page-csrf = این صفحه بیش از اندازه باز مانده یا از جای دیگری آمده است: پاسخی ثبت نشد. لطفاً دوباره پاسخ دهید.
page-accepted-heading = شما می‌آیید
page-accepted = سپاس! پاسخ شما ثبت شد: شما در فهرست هستید.
page-waitlisted-heading = شما در فهرست انتظار هستید
page-waitlisted = ظرفیت رویداد پر است. شما در فهرست انتظار آن هستید و اگر جایی باز شود پیام می‌گیرید.
page-tentative-heading = پاسخ شما «شاید» است
page-tentative = پاسخ شما ثبت شد. تا بسته شدن دعوت هنوز می‌توانید همین‌جا بپذیرید یا رد کنید.
page-rejected-heading = شما نمی‌آیید
page-rejected = پاسخ شما ثبت شد. میزبان می‌داند که نمی‌توانید بیایید.
page-done = کار این پیوند تمام شد. برای تغییر پاسخ از برنامهٔ مدیر رویداد استفاده کنید.
status-pending = هنوز پاسخ نداده‌اید
status-tentative = شاید
status-accepted = پذیرفته
status-waitlisted = در فهرست انتظار
status-waitlisted-at = در فهرست انتظار (نفر { $place })
status-rejected = رد شده
status-cancelled = میزبان لغو کرده است
status-expired = منقضی شده

## The page of an unsubscribe link
unsubscribe-heading = توقف پیام‌های دعوت
unsubscribe-about = پیام‌های دعوت به
unsubscribe-sender = توقف دعوت‌های { $sender }
unsubscribe-everyone = توقف دعوت‌های همه
unsubscribe-someone = این فرستنده
unsubscribe-stopped-sender = انجام شد: دیگر پیام دعوتی از { $sender } به این نشانی نمی‌آید.
unsubscribe-stopped-everyone = انجام شد: دیگر پیام دعوتی از هیچ‌کس به این نشانی نمی‌آید.
unsubscribe-invalid = این پیوند کار نمی‌کند. پیوند ایمیل را همان‌طور که هست به کار ببرید.
unsubscribe-footer = دعوت‌ها همچنان در مدیر رویداد منتظر شما هستند؛ فقط پیام‌ها متوقف می‌شوند.
