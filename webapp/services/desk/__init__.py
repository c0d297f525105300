"""The service desk: the staff queue with each promised day (000 （一）2.7, （二）2.7; 002; 003 "收到完整材料后的一个
工作日内审核"; 004), the reviewer's and coordinator's decisions, arrangements by kind of service, applications
taken on the phone (003 lines 488, 614 …), calling the customer (000 line 108; 001 line 31), the day-before
confirmation (001 line 33; 003 line 1550), second-opinion case records and the weekly report to each insurer
(004 服务流程 line 15: "英仕每周服务进度报告 至史带").
"""
