"""Everything 1NCE pushes to Home Assistant, one module a step.

A message travels one way, whichever channel brought it:

    view (HTTP, status contract) -> api parse -> membership (our SIM?)
        -> inbox (de-duplicate, reassemble, store) -> announce (events, signals)

The Data Streamer's batches take the same way from their own view
(`streamer_view`, an HTTP Basic `credential`): `api.streamer` parse ->
membership -> `records` (usage and network event ids, de-duplicated for 9
days) or the inbox (SMS events) -> `streamer` hands new records on (usage
and event listeners, `announce` for network events); `streamer_repair`
raises an issue when a stream that delivered falls silent.

`address` gives an entry its secret, its public address, webhook and
cloudhook, and the repair issue when 1NCE has nowhere to push; `receiver`
bundles what one loaded entry needs to receive (kept in its runtime data);
`journal` is the inbox's durable file and `health` counts the requests.
Delivery reports found by polling (`delivery.py`) enter at the inbox, like
pushed ones. Nothing here imports an entity platform.
"""
