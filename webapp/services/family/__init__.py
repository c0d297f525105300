"""Family access: who may act for an insured person, how it is asked for, proven, approved, ended and logged.
Every service is the insured's alone (仅限被保险人本人使用: 000 2.4(1)); a legal guardian of a minor or of an
adult without capacity, or an agent with a power of attorney, may apply for them (003 重疾住院护工 六、服务声明 2;
003 医疗垫付 材料 8).
"""
