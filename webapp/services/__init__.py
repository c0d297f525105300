"""The rules: plain Python with no Flask import; every function is given its session and an aware `now`.

At the top, the rules engine's stable entry points (README) and what every subject uses: clock (China time),
workdays, cutoffs, policy_years, outcomes, deadlines, eligibility; refusals (the one `Refused`), audit, ratelimit,
jobs (one cron run at a time) and retention. Each subject is a package: products, booking, home, papers, family,
desk, calendar, accounts, demo (each package's docstring names its seed sections).
"""
