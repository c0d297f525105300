"""The working-day calendar as operators keep it: next year's State Council schedule entered by staff, the
in-process copy kept in step with the override table, and the service desk's hours (000 （一）2.3 line 38:
"受理时间为周一至周五：09：00-18：00（国家法定节假日除外）"). The rules that count working days are
services/workdays.py and services/deadlines.py (seed 003: "以上工作日均以国家公布的法定工作日为准").
"""
