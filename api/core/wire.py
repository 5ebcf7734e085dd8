"""What uvicorn answers itself: a request it cannot parse (a malformed request line, bad
headers, an unsupported upgrade) never reaches the application, and uvicorn's own answer is
a plain-text 400. These protocols answer it with a problem document like every other error.

`masthead serve` runs uvicorn with `http=HTTP_PROTOCOL` (httptools when installed, as uvicorn's
`auto` would pick, else h11); only the 400 is changed, parsing is uvicorn's own.
"""

import h11
import orjson
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from api.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, BadRequest

H11_400_HEADERS = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"connection", b"close")]


def bad_request_body(msg: str) -> bytes:
    """The problem document for a request uvicorn could not parse (`msg` is uvicorn's)."""
    return orjson.dumps(
        {
            "type": PROBLEM_BASE + BadRequest.type_slug,
            "title": BadRequest.title,
            "status": 400,
            "detail": f"{msg.rstrip('.')}: the request line or headers are not valid HTTP/1.1.",
        }
    )


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        event = h11.Response(status_code=400, headers=H11_400_HEADERS, reason=STATUS_PHRASES[400])
        self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.Data(data=bad_request_body(msg))))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn's `auto` would use h11 too
    HTTP_PROTOCOL: type = ProblemH11Protocol
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            body = bad_request_body(msg)
            content = [STATUS_LINE[400]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(
                [
                    b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n",
                    b"\r\n",
                    body,
                ]
            )
            self.transport.write(b"".join(content))
            self.transport.close()

    HTTP_PROTOCOL = ProblemHttpToolsProtocol
