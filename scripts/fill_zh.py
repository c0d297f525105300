"""Fill zh_CN translations from a dict kept next to the .po (run after `pybabel update`).

ZH is the source of truth: an msgid found here gets this msgstr (a revised wording replaces the old one).
The script exits non-zero listing every msgid still untranslated, and every translation whose
placeholders (%(name)s, {code}) differ from its msgid's.

Terms (see /work/shared/DOMAIN.md): 绿通, 被保险人, 保单年度, 服务有效期, 等待期, 犹豫期, 工作日, 住院单, 检查单,
专家门诊, 专车接送, 陪诊 / 陪诊人员, 第二诊疗意见, 护工, 监护人 / 监护关系证明, 授权委托书, 服务专员
(the seeds' 医疗服务专员), 视为已使用一次 (counts as used), 不计次数 (not counted), 申请 (application),
预约 (booking), 撤回 (withdraw), 变更 / 改期 (change).
"""
import re

from babel.messages.pofile import read_po, write_po

ZH = {
    # ------------------------------------------------------------------ site frame, start page, errors
    "Green channel": "绿通服务",
    "Green channel self-service": "绿通自助服务",
    "Skip to content": "跳到主要内容",
    "Main": "主导航",
    "My services": "我的服务",
    "My bookings": "我的预约",
    "Messages": "消息",
    "Sign out": "退出登录",
    "Back to the start": "返回首页",
    "Book the medical services your critical-illness policy includes: expert outpatient visits, hospital admission, car pickup, escorted visits, second opinions and nursing aides.":
        "在这里自助办理您的重疾保单所含的就医服务：专家门诊、住院安排、专车接送、陪诊、第二诊疗意见和住院护工。",
    "This page has expired. Please refresh it and try again; nothing was changed.": "页面已过期，请刷新后重试；您的信息没有任何改动。",
    "We could not find that page.": "找不到这个页面。",
    "You do not have access to this page.": "您无权访问这个页面。",
    "That file is too large. Please choose a smaller photo.": "文件太大，请选择一张较小的照片。",
    "Too many attempts. Please wait a minute and try again.": "尝试次数过多，请稍等一分钟再试。",
    "That request could not be handled. Please go back and try again; nothing was changed.": "无法处理这个请求，请返回重试；您的信息没有任何改动。",
    "Something went wrong on our side. Nothing you sent was lost; please try again in a moment.": "我们这边出了点问题。您提交的内容没有丢失，请稍后再试。",
    "Staff console": "工作人员后台",
    "The staff console is not open yet. Staff work in the service desk system for now.": "工作人员后台暂未开放，目前请在服务台系统中处理。",

    # ------------------------------------------------------------------ sign-in and finding the policy
    "Sign in": "登录",
    "Enter your mobile number. We will text you a 6-digit code.": "请输入您的手机号码，我们会发送6位短信验证码。",
    "Mobile number": "手机号码",
    "Text me a code": "获取验证码",
    "We have sent a code to %(mobile)s. It is valid for 5 minutes.": "验证码已发送至%(mobile)s，5分钟内有效。",
    "Demo only — the code that was texted:": "仅供演示，已发送的验证码：",
    "6-digit code": "6位验证码",
    "Send a new code": "重新获取验证码",
    "Use another number": "换个手机号",
    "Demo accounts": "演示账号",
    "insured adult with four policies": "有4份保单的成年被保险人",
    "parent acting for a 9-year-old child": "为9岁孩子代办的家长",
    "another insured person": "另一位被保险人",
    "Your 绿通 sign-in code is {code}. It is valid for 5 minutes. Never tell anyone this code.":
        "您的绿通登录验证码是{code}，5分钟内有效。请勿告诉任何人。",
    "Please enter an 11-digit mainland China mobile number.": "请输入11位中国大陆手机号码。",
    "A code was sent less than a minute ago. Please wait %(seconds)s seconds before asking again.":
        "验证码刚刚已发送，请%(seconds)s秒后再重新获取。",
    "Too many attempts. Please wait a while and try again, or call the service hotline.": "尝试次数过多，请稍后再试，或拨打服务热线。",
    "That code is not right. Please check the text message and try again.": "验证码不正确，请核对短信后重新输入。",
    "That code has expired or was already used. Please ask for a new one.": "验证码已过期或已使用，请重新获取。",
    "This account has been closed. Please call the service hotline.": "该账号已停用，请拨打服务热线。",
    "Find your policy": "查找您的保单",
    "The first time you sign in, tell us who the insured person is, exactly as on the policy. We check it against the policy data once.":
        "首次登录时，请按保单上的信息填写被保险人的姓名和身份证号码。我们会与保单信息核对一次。",
    "Full name of the insured person": "被保险人姓名",
    "Resident ID number": "居民身份证号码",
    "Applying for a child or another family member? Sign in with your own number; access for family members is set up with proof of guardianship or a power of attorney.":
        "要为孩子或其他家人办理？请用您自己的手机号登录。为家人代办，需先凭监护关系证明或授权委托书开通代办权限。",
    "Please check the ID number: it should be 18 characters, and the last one may be X.": "请检查身份证号码：应为18位，最后一位可能是X。",
    "We found no policy for that name and ID number. Please check both, exactly as on the policy.":
        "没有找到与该姓名和身份证号码对应的保单。请对照保单上的信息重新核对。",
    "This insured person is already linked to another mobile number. Please call the service hotline.":
        "该被保险人已绑定其他手机号码，请拨打服务热线。",
    "Welcome, %(name)s. Your policies are below.": "%(name)s，您好！以下是您的保单。",
    "You have signed out.": "您已安全退出。",

    # ------------------------------------------------------------------ my services: policies and service cards
    "%(name)s (you)": "%(name)s（本人）",
    "you act as guardian": "您是监护人",
    "you act with power of attorney": "您受托代办",
    "Policy %(number)s": "保单号：%(number)s",
    "Policy %(number)s · %(start)s – %(end)s": "保单号：%(number)s · %(start)s至%(end)s",
    "Hotline": "服务热线",
    "Show its services (%(n)s)": "查看保单服务（%(n)s项）",
    "By phone:": "电话申请：",
    "Available": "可以申请",
    "Not available now": "暂时不能申请",
    "No limit on uses.": "不限次数。",
    "%(left)s of %(quota)s left this policy year (%(start)s – %(end)s); renews on %(date)s.":
        "本保单年度（%(start)s至%(end)s）剩余%(left)s次，共%(quota)s次；%(date)s起重新计算。",
    "%(left)s of %(quota)s left this policy year (%(start)s – %(end)s).":
        "本保单年度（%(start)s至%(end)s）剩余%(left)s次，共%(quota)s次。",
    "%(left)s of %(quota)s days left this policy year (%(start)s – %(end)s); renews on %(date)s.":
        "本保单年度（%(start)s至%(end)s）剩余%(left)s天，共%(quota)s天；%(date)s起重新计算。",
    "%(left)s of %(quota)s days left this policy year (%(start)s – %(end)s).":
        "本保单年度（%(start)s至%(end)s）剩余%(left)s天，共%(quota)s天。",
    "%(left)s of %(quota)s left for the whole service term, until %(end)s.":
        "服务有效期内（至%(end)s止）剩余%(left)s次，共%(quota)s次。",
    "%(left)s of %(quota)s days left for the whole service term, until %(end)s.":
        "服务有效期内（至%(end)s止）剩余%(left)s天，共%(quota)s天。",
    "Held by an application in progress: %(n)s.": "其中办理中的申请已占用：%(n)s。",
    "Arranged within %(n)s working days once your papers are complete.": "材料齐全后%(n)s个工作日内安排。",
    "Arranged within %(n)s working days of the admission slip date.": "自住院单开具之日起%(n)s个工作日内安排。",
    "Arranged within %(n)s working days — by %(date)s if you apply now and your papers are complete.":
        "%(n)s个工作日内安排：现在申请且材料齐全的，%(date)s前安排好。",
    "Sign in with your mobile number": "用手机号登录",
    "Applying for your child or a family member? Sign in with your own mobile number.": "为孩子或家人申请？请用您本人的手机号登录。",
    "Rules and papers needed": "使用规则和所需材料",
    "Papers needed:": "所需材料：",
    "Apply": "申请",

    # ------------------------------------------------------------------ why a service cannot be used now
    "This service is not part of this policy.": "您的保单不包含这项服务。",
    "Only the insured person, their guardian or someone with their power of attorney can apply.":
        "只有被保险人本人、其监护人或持有被保险人授权委托书的人可以申请。",
    "Your request to act for this person is still being checked.": "您的代办资格还在审核中。",
    "This service must be applied for by the insured person or their guardian.": "这项服务须由被保险人本人或其监护人申请。",
    "The policy was surrendered during its cooling-off period, so its services have ended.": "保单已在犹豫期内退保，相关服务已失效。",
    "The policy has been surrendered.": "保单已退保。",
    "The policy has lapsed.": "保单已失效。",
    "The policy has not started yet.": "保单尚未生效。",
    "The policy has expired.": "保单已到期。",
    "The period in which these services can be used has ended.": "这些服务的有效期已结束。",
    "The policy is in its cooling-off period.": "保单还在犹豫期内。",
    "The policy is in its waiting period.": "保单还在等待期内。",
    "The illness was first diagnosed before the policy started, so it is not covered.": "该疾病在保单生效前已首次确诊，不在服务范围内。",
    "The illness was first diagnosed during the waiting period, so it is not covered.": "该疾病在等待期内首次确诊，不在服务范围内。",
    "A confirmed diagnosis of a covered critical illness is needed first.": "需要先确诊患有保单保障的重大疾病，才能申请。",
    "All uses for this period are used up.": "本期服务次数已用完。",
    "Your application in progress already holds the last use.": "最后一次服务次数已被您办理中的申请占用。",
    "Not enough left for this request.": "剩余额度不够本次申请。",
    "%(n)s left.": "当前剩余：%(n)s。",
    "Starts on %(date)s.": "将于%(date)s生效。",
    "Ends on %(date)s.": "将于%(date)s结束。",
    "Available from %(date)s.": "%(date)s起可以使用。",
    "Uses renew on %(date)s.": "%(date)s起可再次使用。",
    "This application cannot be made now:": "暂时无法申请，原因如下：",
    "Back to my services": "返回我的服务",

    # ------------------------------------------------------------------ the application form
    "Apply: %(service)s": "申请%(service)s",
    "For %(name)s": "被保险人：%(name)s",
    "Please correct the fields marked below.": "请修改下方标出的内容。",
    "Continue": "下一步",
    "(optional)": "（选填）",
    "No": "否",
    "Please choose": "请选择",
    "Please check before you send": "提交前请核对",
    "Papers you will be asked for:": "稍后需要您提供以下材料：",
    "Send the application": "提交申请",
    "Change something": "返回修改",
    "Yes": "是",
    # fields shared by several services
    "City": "城市",
    "Hospital": "医院",
    "Department": "科室",
    "Some departments are not covered by this service.": "部分科室不在本服务范围内。",
    "Date": "日期",
    # expert outpatient
    "Describe the illness and what you need from the visit": "请描述病情和本次就诊的需求",
    "Doctor you would like to see": "希望就诊的医生",
    "If this doctor cannot be booked we suggest others of the same rank.": "如果这位医生约不上，我们会为您推荐同级别的其他专家。",
    "Preferred dates": "希望就诊的日期",
    "Give up to three dates; we book one of them.": "最多可填3个日期，我们会从中为您预约一个。",
    # hospital admission and surgery
    "Hospital that issued the admission slip": "开具住院单的医院",
    "Department that issued the admission slip": "开具住院单的科室",
    "Date on the admission slip": "住院单开具日期",
    "Leave empty if you have no admission slip yet.": "还没有住院单的，可以不填。",
    # examination fast-track
    "Hospital that issued the examination order": "开具检查单的医院",
    "Examination": "检查项目",
    "Date on the examination order": "检查单开具日期",
    "CT scan": "CT检查",
    "Ultrasound (including colour Doppler)": "B超（含彩超）",
    "MRI scan": "核磁共振（MRI）检查",
    # car pickup
    "Trip": "行程",
    "From home to the hospital (admission)": "从家到医院（入院）",
    "From the hospital home (discharge)": "从医院回家（出院）",
    "We drive only between your home and the hospital, never to another hospital.": "专车只在您家和医院之间接送，不能送往其他医院。",
    "Pickup date and time": "用车日期和时间",
    "Your home address": "家庭住址",
    "Distance from home to the hospital (km)": "从家到医院的距离（公里）",
    "One way, by the shortest driving route.": "按单程最短行车路线计算。",
    "Discharge date": "出院日期",
    "Give the admission slip date, or the discharge date if you have already left hospital.":
        "请填写住院单开具日期；如果已经出院，请填写出院日期。",
    "People travelling, including you": "乘车人数（含被保险人本人）",
    "I must travel lying down": "需要平躺乘车",
    "A lying-down bed takes two or three seats.": "平躺乘车需要占用2至3个座位。",
    "I have a doctor's certificate that I must travel lying down": "已有医生出具的需平躺乘车证明",
    # accompanied visit
    "What the companion helps with": "需要陪诊人员协助办理",
    "Admission to hospital": "办理入院",
    "Discharge from hospital": "办理出院",
    "Meeting date and time": "见面日期和时间",
    "Where the companion should meet you": "与陪诊人员的见面地点",
    # second opinion, multidisciplinary consultation, remote consultation
    "Current diagnosis": "目前的诊断",
    "Your questions for the experts": "想请专家解答的问题",
    "Hospital treating you now": "目前就诊的医院",
    "Hospital you would like the opinion from": "希望出具意见的医院",
    "Preferred country": "意向国家",
    "United States": "美国",
    "Germany": "德国",
    "Japan": "日本",
    "Singapore": "新加坡",
    "United Kingdom": "英国",
    # nursing aide
    "Ward and bed number": "病区和床号",
    "First day you need the aide": "护工开始服务的日期",
    "Apply at least 72 hours ahead if you can; sooner is not guaranteed.": "建议至少提前72小时申请；时间太紧的，不一定能安排上。",
    "Days of care": "护理天数",

    # ------------------------------------------------------------------ form checks
    "Please fill in this field.": "请填写此项。",
    "Please choose one.": "请选择一项。",
    "Please choose one of the options.": "请从选项中选择一项。",
    "Please answer yes or no.": "请选择“是”或“否”。",
    "Please enter a date.": "请填写日期。",
    "Please enter a date and time.": "请填写日期和时间。",
    "Please enter a date as YYYY-MM-DD.": "请按“年-月-日”格式填写日期，例如2026-06-01。",
    "Please choose at least one date.": "请至少选择一个日期。",
    "Please enter a number.": "请填写数字。",
    "Please enter a whole number.": "请填写整数。",
    "Please enter a number from %(min)s to %(max)s.": "请填写%(min)s到%(max)s之间的数字。",
    "Please shorten this to at most %(max)s characters.": "内容太长了，请控制在%(max)s个字以内。",
    "Please choose a date on or after %(date)s.": "请选择%(date)s或之后的日期。",
    "Please choose a date no later than %(date)s.": "请选择%(date)s或之前的日期。",
    "Please choose a time after %(time)s.": "请选择%(time)s之后的时间。",
    "This date cannot be in the future.": "这个日期不能晚于今天。",
    "This admission slip is more than %(days)s days old; please ask the hospital for a current one.":
        "这张住院单开具已超过%(days)s天，请向医院重新开具。",
    "This examination order is more than %(days)s days old; please ask the hospital for a current one.":
        "这张检查单开具已超过%(days)s天，请向医院重新开具。",
    "This service does not cover the department %(department)s.": "本服务不包含%(department)s。",
    "The discharge date cannot be in the future; give the admission slip date instead.":
        "出院日期不能晚于今天；如果还没出院，请填写住院单开具日期。",
    "The discharge must be within the last %(days)s days.": "出院日期须在最近%(days)s天内。",
    "Please give the admission slip date or the discharge date.": "请填写住院单开具日期或出院日期。",
    "A trip to the hospital needs an admission slip.": "从家到医院（入院）需要提供住院单。",
    "Lying-down transport needs a doctor's certificate; please confirm you have one.": "平躺乘车需要医生出具证明，请确认您已有证明。",
    "We can only arrange a car for trips of up to %(max)s km one way.": "专车接送的单程距离须在%(max)s公里以内。",
    "You have %(max)s days of aide care left in this policy year.": "本保单年度您还剩%(max)s天护工服务。",
    "You have no aide days left in this policy year.": "本保单年度的护工服务天数已用完。",

    # ------------------------------------------------------------------ what sending the application spends
    "You may use %(service)s as often as you need; this application does not use up anything.":
        "%(service)s不限使用次数，本次申请不占用任何次数。",
    "This uses %(units)s of your %(amount)s days of %(service)s for the policy year %(start)s – %(end)s (%(left)s left after this).":
        "本次申请将使用%(units)s天%(service)s。本保单年度（%(start)s至%(end)s）共%(amount)s天，申请后剩余%(left)s天。",
    "This uses the one green-channel application your policy allows for %(start)s – %(end)s; it covers %(service)s and the related services, which cannot be applied for again.":
        "您的保单在%(start)s至%(end)s期间只能申请一次绿通服务，本次申请将用掉这次机会。它包括%(service)s及相关配套服务，之后不能再次申请。",
    "This uses your one %(service)s for the whole service period %(start)s – %(end)s.":
        "本次申请将用掉服务有效期（%(start)s至%(end)s）内仅有的一次%(service)s。",
    "This uses your one %(service)s for the policy year %(start)s – %(end)s.":
        "本次申请将用掉本保单年度（%(start)s至%(end)s）仅有的一次%(service)s。",
    "This application is use %(used)s of the %(amount)s allowed for %(service)s in the service period %(start)s – %(end)s.":
        "这将是服务有效期（%(start)s至%(end)s）内第%(used)s次使用%(service)s（共%(amount)s次）。",
    "This application is use %(used)s of the %(amount)s allowed for %(service)s in the policy year %(start)s – %(end)s.":
        "这将是本保单年度（%(start)s至%(end)s）内第%(used)s次使用%(service)s（共%(amount)s次）。",
    "Application %(ref)s received. We will send you a message when it moves on.": "申请已提交，申请编号%(ref)s。有新进展时，我们会发消息通知您。",
    "Too many applications in a short time. Please wait a while, or call the service hotline.": "短时间内提交的申请过多，请稍后再试，或拨打服务热线。",

    # ------------------------------------------------------------------ papers
    "Diagnosis or suspected diagnosis from a public hospital of grade %(grade)s or higher": "%(grade)s及以上公立医院出具的确诊或疑似诊断病历",
    "level 2": "二级",
    "level 2A (二甲)": "二级甲等（二甲）",
    "level 3A (三甲)": "三级甲等（三甲）",
    "Pathology report (when the diagnosis is confirmed)": "病理诊断报告（已确诊的需提供）",
    "Medical records: outpatient notes, discharge summary, test reports": "病历资料：门诊病历、出院小结、检查报告",
    "Hospital admission slip": "住院单（入院通知单）",
    "Proof of discharge": "出院证明",
    "The doctor's examination order": "医生开具的检查单",
    "Doctor's certificate for lying-down transport": "医生出具的需平躺乘车证明",
    "ID card of the insured person": "被保险人身份证",
    "Proof of guardianship": "监护关系证明",
    "Power of attorney signed by the insured person": "被保险人签署的授权委托书",

    # ------------------------------------------------------------------ bookings: list, states, detail
    "No applications yet. Choose a service on the My services page to apply.": "您还没有申请记录。请在“我的服务”页面选择一项服务申请。",
    "In progress": "办理中",
    "Finished": "已结束",
    "arranged by %(date)s": "%(date)s前安排",
    "applied %(date)s": "%(date)s申请",
    "All my bookings": "查看全部预约",
    "Reference %(ref)s": "申请编号：%(ref)s",
    "Application received": "已提交申请",
    "Papers being checked": "材料审核中",
    "Approved — being arranged": "审核通过，正在安排",
    "Arranged": "已安排",
    "Completed": "已完成",
    "Withdrawn (not counted)": "已撤回（不计次数）",
    "Not approved": "审核未通过",
    "Cancelled (not counted)": "已取消（不计次数）",
    "Cancelled (counted as used)": "已取消（视为已使用）",
    "Missed (counted as used)": "未到场（视为已使用）",
    "A service advisor will check your papers; you will get a message here.": "服务专员会审核您的材料，结果会在这里通知您。",
    "A service advisor is checking your papers; you will get a message when they decide.": "服务专员正在审核您的材料，有结果后会发消息通知您。",
    "We are arranging the appointment and will send you its time and place here.": "我们正在为您安排，确定时间和地点后会在这里通知您。",
    "Everything is arranged; the details are below. Keep your ID card and medical papers with you.": "已为您安排好，详情见下方。请随身带好身份证和就医资料。",
    "We promise to arrange it by %(date)s.": "我们承诺在%(date)s前为您安排好。",
    "Once your papers are complete, we arrange it within %(n)s working days.": "材料齐全后，我们会在%(n)s个工作日内为您安排。",
    "Appointment": "预约信息",
    "When": "时间",
    "Doctor": "医生",
    "Doctor level": "医生职称",
    "Meeting point": "见面地点",
    "Your contact on the day": "当天联系人",
    "Free to change or cancel until %(deadline)s — %(left)s.": "%(deadline)s前可免费变更或取消（%(left)s截止）。",
    "The free change period ended at %(deadline)s.": "免费变更或取消的时间已于%(deadline)s截止。",
    "Change or cancel": "变更或取消",
    "Change the date": "更改日期",
    "This booking cannot be cancelled or changed online.": "这个预约无法在线取消或变更。",
    "If your plans change, please call %(tel)s.": "如有变动，请致电%(tel)s。",
    "Withdraw the application": "撤回申请",
    "Cancel": "取消预约",
    "What has happened": "办理进度",
    "by %(who)s": "操作人：%(who)s",
    "you": "您",
    "family member": "家属",
    "service advisor": "服务专员",
    "system": "系统",
    "Appointment: %(at)s": "预约时间：%(at)s",
    "Free change or cancellation until: %(at)s": "免费变更或取消截止：%(at)s",
    "Cancelled at: %(at)s": "取消时间：%(at)s",
    "Arrived %(n)s minutes late (limit %(limit)s).": "迟到%(n)s分钟（迟到%(limit)s分钟及以上视为已使用）。",
    "What you asked for": "申请内容",
    # why a use was (not) counted
    "Once arranged it cannot be changed or cancelled; cancelling still counts as used.": "一经安排，不能变更或取消；如果取消，仍视为已使用一次。",
    "Free to change or cancel until 12:00 the day before; after that it counts as used.":
        "预约日前一天12:00前可免费变更或取消，之后再变更或取消，视为已使用一次。",
    "Free to change or cancel until %(hours)s hours before; after that it counts as used.":
        "预约时间%(hours)s小时前可免费变更或取消，之后再变更或取消，视为已使用一次。",
    "Not attending counts as used.": "未到场视为已使用一次。",
    "Arriving late by the stated limit counts as used.": "迟到达到规定时长，视为已使用一次。",
    "Service delivered.": "服务已完成。",
    "The named expert could not be booked and you declined the alternatives: not counted.":
        "指定专家未能约上，您也没有接受推荐的其他专家，本次不计次数。",

    # ------------------------------------------------------------------ cancel, withdraw, change the date
    "Cancel this booking?": "确定取消这个预约吗？",
    "Withdraw this application?": "确定撤回这个申请吗？",
    "It has not been arranged yet, so you can withdraw it now free of charge: nothing is counted.": "目前还没有开始安排，现在撤回不计次数。",
    "Free until %(deadline)s — %(left)s.": "%(deadline)s前可免费变更或取消（%(left)s截止）。",
    "Cancelling now does not count as a use.": "现在取消不计次数。",
    "The free cancellation ended at %(deadline)s.": "免费变更或取消的时间已于%(deadline)s截止。",
    "Cancelling now counts as used.": "现在取消将视为已使用一次。",
    "Appointment: %(start)s. Now: %(now)s.": "预约时间：%(start)s。当前时间：%(now)s。",
    "Yes, withdraw": "确认撤回",
    "Yes, cancel free of charge": "确认免费取消",
    "Cancel and count it as used": "仍要取消（视为已使用）",
    "Keep the booking": "保留预约",
    "Change the date?": "要更改日期吗？",
    "Which dates or times would suit you?": "您希望改到哪天或什么时间？",
    "Anything else we should know (optional)": "其他需要说明的情况（选填）",
    "The current appointment is released and we arrange a new one within the same promise. This is free.":
        "原预约将被取消，我们会在原承诺的时限内为您重新安排。本次改期免费。",
    "Ask for a new date": "申请改期",
    "The date can no longer be changed free of charge. You can still cancel, which counts as used, or keep the appointment.":
        "已过免费改期时间，不能再免费更改日期。您仍可以取消（视为已使用一次），或保留原预约。",
    "This booking changed in the meantime; here is where it stands now. Nothing else was changed.":
        "这个预约刚刚有了变化，下面是最新状态。其他内容没有改动。",
    "Your application was withdrawn. Nothing was counted.": "申请已撤回，不计次数。",
    "The booking was cancelled free of charge. Nothing was counted.": "预约已免费取消，不计次数。",
    "The booking was cancelled. As the free cancellation period had ended, it counts as used.": "预约已取消。由于已过免费取消时间，本次视为已使用一次。",
    "Done.": "操作成功。",
    "Please say which dates or times suit you.": "请填写您方便的日期或时间。",
    "We have your new dates. The appointment is being arranged again, free of charge; you will get a message.":
        "已收到您的新日期。我们正在为您免费重新安排，安排好后会发消息通知您。",
    "This booking cannot be cancelled online. Please call the service hotline.": "这个预约无法在线取消，请拨打服务热线。",
    "The free change period has ended, so the date can no longer be changed online.": "免费改期时间已过，不能再在线更改日期。",

    # ------------------------------------------------------------------ messages
    "Mark all as read": "全部标为已读",
    "New": "未读",
    "Open booking %(ref)s": "查看详情（%(ref)s）",
    "No messages yet. We will tell you here when anything about your applications changes.": "暂无消息。您的申请有任何进展，都会在这里通知您。",
    "Reminder: %(what)s can be changed or cancelled free of charge only until %(deadline)s.":
        "温馨提示：%(what)s只能在%(deadline)s前免费变更或取消。",
    "%(what)s: %(state)s.": "%(what)s：%(state)s。",
    "Reason: %(reason)s": "原因：%(reason)s",

    # ------------------------------------------------------------------ papers and photos (issue 4)
    "Your own ID card (as the person applying for them)": "申请人本人身份证（代被保险人申请时）",
    "The file is empty. Please choose the photo again.": "文件是空的，请重新选择照片。",
    "This photo is larger than %(max_mb)s MB. Please choose a smaller one.": "照片超过 %(max_mb)s MB，请选择小一些的照片。",
    "This file is not a photo we can read. Please send a JPEG, PNG, WebP or HEIC photo.": "无法识别为照片，请上传 JPEG、PNG、WebP 或 HEIC 格式的照片。",
    "This image is too large (over %(max_mp)s megapixels). Please take a normal photo.": "图片尺寸过大（超过 %(max_mp)s 百万像素），请用手机正常拍照。",
    "This file holds several pictures or an animation. Please send one photo per page.": "该文件包含多张图片或动图，请每页单独上传一张照片。",
    "This photo is damaged or incomplete. Please take it again.": "照片已损坏或不完整，请重新拍摄。",
    "This image uses a colour format phones do not make. Please take a photo with your phone.": "图片的色彩格式不是手机拍摄的格式，请用手机重新拍照。",
    "This photo is too small to read (under %(min_side)s pixels). Please take it again, closer.": "照片太小看不清（不足 %(min_side)s 像素），请靠近一些重新拍摄。",
    "This photo is too blurry to read. Please hold the phone steady and take it again.": "照片太模糊看不清，请拿稳手机重新拍摄。",
    "This photo is too dark to read. Please take it again in better light.": "照片太暗看不清，请在光线充足处重新拍摄。",
    "This photo is too bright to read. Please avoid glare and direct light and take it again.": "照片太亮看不清，请避开反光和强光后重新拍摄。",
    "This file contains something other than a photo, so we cannot keep it. Please take a new photo.": "该文件中夹带了照片以外的内容，无法保存。请重新拍一张照片。",
    "Please choose at least one photo.": "请至少选择一张照片。",
    "Please send at most %(limit)s photos at a time.": "每次最多上传 %(limit)s 张照片。",
    "You cannot add papers to this application.": "您不能为此申请添加材料。",
    "This application is closed, so papers can no longer be added.": "此申请已结束，不能再添加材料。",
    "This application does not need that paper.": "此申请不需要这份材料。",
    "Too many photos in a short time. Please wait a few minutes and try again.": "短时间内上传的照片过多，请稍等几分钟再试。",
    "That page does not need to be sent again.": "这一页不需要重新上传。",
    "A new photo of that page is already waiting to be sent.": "这一页的新照片已在等待提交。",
    "You have already added this photo.": "这张照片已经添加过了。",
    "You have already added this photo as page %(page)s.": "这张照片已作为第 %(page)s 页添加过了。",
    "At most %(limit)s pages can be added here.": "这里最多可添加 %(limit)s 页。",
    "That page has already been sent, so it cannot be removed.": "这一页已经提交，不能删除。",
    "There are no new photos to send.": "没有需要提交的新照片。",
    "We could not save this photo just now. Nothing was kept; please try again.": "照片暂时无法保存，未保留任何内容，请重试。",
    "%(n)s photo(s) added. Send them when you are ready.": "已添加 %(n)s 张照片，准备好后请提交。",
    "%(n)s photo(s) sent for review. We will tell you here if any page needs retaking.": "已提交 %(n)s 张照片待审核。如有需要重拍的页面，我们会在这里通知您。",
    "The photo was removed.": "照片已删除。",
    "Missing": "未上传",
    "Not sent yet": "尚未提交",
    "Received — being checked": "已收到，审核中",
    "Unreadable — please retake": "看不清，请重拍",
    "Not accepted — please send again": "未通过，请重新上传",
    "Accepted": "已通过",
    "Deleted after the retention period": "保存期满后已删除",
    "Received": "已收到",
    "Unreadable — retake": "看不清，需重拍",
    "Not accepted": "未通过",
    "This is not the paper asked for.": "不是所需的材料。",
    "Part of the page is missing or covered.": "页面不完整或有遮挡。",
    "It is not from a hospital of the required grade.": "不是符合等级要求的医院出具的。",
    "The name on it does not match the insured person.": "材料上的姓名与被保险人不一致。",
    "It is out of date.": "材料已过期。",
    "Please see the note.": "请看备注。",
    "The page cannot be read.": "这一页看不清。",
    "Papers": "材料",
    "Back to %(service)s": "返回%(service)s",
    "Papers for this application": "本次申请的材料",
    "Photograph each page flat, in good light, with all four corners in view — or choose the photos from your album. Each photo is checked at once, so you know straight away if one needs retaking.":
        "请将每页材料平放，在光线充足处拍照，四个角都要拍全；也可以从相册选择。每张照片都会立即检查，需要重拍时马上告诉您。",
    "Sending…": "正在上传…",
    "Preparing…": "正在准备…",
    "Added": "已添加",
    "Not sent: the connection dropped.": "未上传：网络中断。",
    "Try again": "重试",
    "Page %(n)s": "第 %(n)s 页",
    "New photo of page %(n)s": "第 %(n)s 页的新照片",
    "New photo ready to send.": "新照片已准备好，待提交。",
    "Retake page %(n)s": "重拍第 %(n)s 页",
    "Send the new photo": "上传新照片",
    "Take a photo or choose from album": "拍照或从相册选择",
    "Add another page": "再添加一页",
    "Upload the chosen photos": "上传所选照片",
    "Remove": "删除",
    "Send %(n)s photo(s) for review": "提交 %(n)s 张照片审核",
    "Still missing: %(list)s.": "还缺：%(list)s。",
    ", ": "、",
    "You can send what you have now and add the rest later.": "可以先提交已有的，其余稍后补充。",
    "Please retake the pages marked above.": "请重拍上面标出的页面。",
    "Every paper has been sent. We will tell you here if a page needs retaking.": "材料已全部提交。如有需要重拍的页面，我们会在这里通知您。",
    "Add photos of your papers": "上传材料照片",
    "See your papers": "查看已交材料",
    "Please use the mobile number you signed in with.": "请使用您登录时的手机号。",
    "Confirm it is you": "确认是您本人",
    "ID papers are shown only after a fresh sign-in. We will text a new code to your number.": "证件类材料需重新验证后才能查看。我们会向您的手机号发送新的验证码。",
    "Sign in again to see this ID paper": "重新验证后查看证件",
    "%(what)s: page %(n)s of “%(paper)s” needs to be sent again. %(reason)s": "%(what)s：“%(paper)s”第 %(n)s 页需要重新上传。%(reason)s",
    "Retake the page": "去重拍",
    "Still missing: %(n)s paper(s) — you can add them later.": "还缺 %(n)s 份材料，可稍后补充。",
    "%(name)s: %(text)s": "%(name)s：%(text)s",
}

_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")


def placeholders(text: str) -> set:
    return set(_PLACEHOLDER.findall(text))


path = "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
with open(path, "rb") as f:
    catalog = read_po(f, locale="zh_CN")
missing, mismatched = [], []
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, (tuple, list)):  # plural: Chinese has one form
        singular = message.id[0]
        if singular in ZH:
            message.string = (ZH[singular],)
        elif not any(message.string):
            missing.append(singular)
        continue
    if message.id in ZH:
        message.string = ZH[message.id]
        message.flags.discard("fuzzy")
    elif not message.string or "fuzzy" in message.flags:
        missing.append(message.id)
        continue
    if placeholders(message.id) != placeholders(message.string):
        mismatched.append(f"{message.id} -> {message.string}")
with open(path, "wb") as f:
    write_po(f, catalog, omit_header=False, sort_output=True)
problems = []
if missing:
    problems.append("untranslated: " + " | ".join(missing))
if mismatched:
    problems.append("placeholders differ: " + " | ".join(mismatched))
if problems:
    raise SystemExit("\n".join(problems))
