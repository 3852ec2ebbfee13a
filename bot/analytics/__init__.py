"""How the service is doing: counters of what happens in conversations (kept
per day in Redis, written with each turn) and the dashboard's figures, which
add what the database knows (submissions, deliveries, ratings)."""
