"""Papers: each application's checklist and its pages (the documents each service's seed asks for, 000 （一）1.2,
003 医疗垫付 材料, 004 一 服务细则), one uploaded photo checked and normalised before it is stored
(SECURITY.md, Uploads), its legibility, and where page images live (local disk or an S3-compatible store,
"No orphans").
"""
