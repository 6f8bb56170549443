"""When to ask 1NCE, decided without Home Assistant: back-off and the detail schedule.

The coordinators (`coordinator.py`, `usage/`) and the delivery tracker
(`delivery.py`) own the requests and Home Assistant's timers; what they ask
for and when is decided here, in plain Python with unit tests of its own:
`backoff`, `details_schedule`, and for the Data Streamer `network_events`
(what a pushed event says without asking) and `quota_reads` (which quotas
streamed traffic makes worth reading, and when).
"""
