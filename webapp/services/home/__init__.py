"""The home page: each policy's entitlement cards (what is left, whether it can be used now or every reason not,
the promise if applied now, the change rule: 000 （一）2.9(6), 003 同城专车接送 特别说明(5)), reused while nothing they
read has changed, and the strip of what to do today (issue 15 item 1).
"""
