"""Applying for a service and a booking's life: the form each service asks for (000 （一）1.2, 003 per service,
004 一 服务细则), the state machine and what each move does to the quota (000 （一）2.9(5)(6), （二）2.9(11), Q&A;
003 同城专车接送 特别说明(5)), own-reason cancellations of one expert (000 （一）2.9(7)), diagnoses on file
(000 （一）1.2 lines 24-26), the facts the eligibility rules read, what a booking page offers next, the list of
my bookings, and the messages each move sends.
"""
