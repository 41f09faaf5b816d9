"""``pitchside bench``: latency and throughput measured the way perf_analyzer does, plus a direct baseline.

The data flow reads off the module names: ``footage`` (frames) -> ``payloads`` (request tensors) ->
``load`` (concurrency or request-rate load over ``triton_infer``) -> ``windows`` (stabilisation) ->
``server_stats`` (Triton's own breakdown) and ``direct`` (the same work in one process) -> ``report``
(JSON, validated by ``report.schema.json``) -> ``table`` / ``plots`` / ``compare``, and for perf_analyzer's
users ``perf_csv`` (its ``-f`` CSV) and ``input_data`` (its ``--input-data`` JSON). ``level_ranges`` reads
``start:end:step``; ``progress`` shows how far a run is and the time it has left; ``outputs`` writes the files.
"""
