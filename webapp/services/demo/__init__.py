"""The demo world, built relative to `now` through the real services (README, demo sign-ins): its people,
policies and bookings, the service desk's day, the papers in every state, and a large book of bookings for the
benches.
"""
