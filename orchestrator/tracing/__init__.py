"""Per-frame OpenTelemetry traces: decode, queue, infer, track and deliver spans under one ``frame`` span, with
the trace context sent to Triton so that its own spans join the frame's trace."""
