"""Fill zh_CN translations from a dict kept next to the .po (run after `pybabel update`)."""
from babel.messages.pofile import read_po, write_po

ZH = {
    "Back to the start": "返回首页",
    "Green channel": "绿通服务",
    "Green channel self-service": "绿通自助服务",
    "Book the medical services your critical-illness policy includes: expert outpatient visits, hospital admission, car pickup, escorted visits, second opinions and nursing aides.":
        "在这里自助办理您的重疾保单所含的就医服务：专家门诊、住院安排、专车接送、陪诊、第二诊疗意见和住院护工。",
    "Sign-in with your mobile number is coming soon. Until then, call the service hotline on your policy.":
        "手机号登录即将开放。在此之前，请拨打保单上的服务热线。",
    "This page has expired. Please refresh it and try again; nothing was changed.": "页面已过期，请刷新后重试；您的信息没有任何改动。",
    "We could not find that page.": "找不到这个页面。",
    "You do not have access to this page.": "您无权访问这个页面。",
    "That file is too large. Please choose a smaller photo.": "文件太大，请选择一张较小的照片。",
    "Too many attempts. Please wait a minute and try again.": "尝试次数过多，请稍等一分钟再试。",
    "That request could not be handled. Please go back and try again; nothing was changed.": "无法处理这个请求，请返回重试；您的信息没有任何改动。",
    "Something went wrong on our side. Nothing you sent was lost; please try again in a moment.": "我们这边出了点问题。您提交的内容没有丢失，请稍后再试。",
}

path = "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
with open(path, "rb") as f:
    catalog = read_po(f, locale="zh_CN")
missing = []
for message in catalog:
    if message.id and not message.string:
        if message.id in ZH:
            message.string = ZH[message.id]
        else:
            missing.append(message.id)
with open(path, "wb") as f:
    write_po(f, catalog, omit_header=False, sort_output=True)
if missing:
    raise SystemExit("untranslated: " + " | ".join(missing))
