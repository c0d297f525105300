"""Accounts: sign-in with a mobile number and an SMS code, the logins a person can end, who an account is
(identity binding and its verification, giving a squatted ID back), resident ID numbers encrypted at rest with a
blind index, and the checks against SMS pumping (SECURITY.md, "Sessions and login"; ASVS 2.2.x, 6.1.1, 7.x,
11.x; PIPL on sensitive personal information).
"""
