"""Where a model store lives: ``s3://bucket/prefix`` (AWS) or ``s3://host:port/bucket/prefix`` (Triton's form for
any S3-compatible endpoint, e.g. MinIO or moto), so one string serves both ``model publish`` and Triton."""

from dataclasses import dataclass


class StoreUriError(ValueError):
    """Not an s3:// model-store URI; the message shows the accepted forms."""


@dataclass(frozen=True)
class StoreUri:
    bucket: str
    prefix: str
    endpoint_url: str | None = None
    """``http://host:port`` for a non-AWS endpoint; None lets the usual AWS chain decide."""

    @classmethod
    def parse(cls, text: str) -> "StoreUri":
        if not text.startswith("s3://"):
            raise StoreUriError(f"{text!r}: a model store is s3://BUCKET/PREFIX or s3://HOST:PORT/BUCKET/PREFIX")
        parts = [p for p in text.removeprefix("s3://").split("/") if p]
        endpoint = None
        if parts and ":" in parts[0]:
            endpoint, parts = f"http://{parts[0]}", parts[1:]
        if not parts:
            raise StoreUriError(f"{text!r} names no bucket")
        return cls(parts[0], "/".join(parts[1:]), endpoint)

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def __str__(self) -> str:
        host = "" if self.endpoint_url is None else self.endpoint_url.removeprefix("http://") + "/"
        return f"s3://{host}{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
