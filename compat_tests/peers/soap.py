"""A SOAP 1.1 service: one document/literal operation ``Echo`` answered 0.2 s after the call.

``GET /?wsdl`` returns the WSDL at once (clients read it when they are created); each ``POST``
(one SOAP call) echoes the request's ``text`` WAIT_S after it arrived.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from compat_tests import WAIT_S

NS = "urn:patchkit:compat"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions name="Waiter" targetNamespace="{ns}" xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{ns}"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <xsd:schema targetNamespace="{ns}" elementFormDefault="qualified">
      <xsd:element name="Echo"><xsd:complexType><xsd:sequence>
        <xsd:element name="text" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="EchoResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="text" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </types>
  <message name="EchoIn"><part name="parameters" element="tns:Echo"/></message>
  <message name="EchoOut"><part name="parameters" element="tns:EchoResponse"/></message>
  <portType name="WaiterPort">
    <operation name="Echo"><input message="tns:EchoIn"/><output message="tns:EchoOut"/></operation>
  </portType>
  <binding name="WaiterBinding" type="tns:WaiterPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Echo">
      <soap:operation soapAction="{ns}#Echo"/>
      <input><soap:body use="literal"/></input>
      <output><soap:body use="literal"/></output>
    </operation>
  </binding>
  <service name="Waiter">
    <port name="WaiterPort" binding="tns:WaiterBinding"><soap:address location="{url}"/></port>
  </service>
</definitions>
"""

RESPONSE = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{soap}"><soap:Body>
<EchoResponse xmlns="{ns}"><text>{text}</text></EchoResponse>
</soap:Body></soap:Envelope>
"""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 10 simultaneous connects must not overflow the listen() backlog


def _echoed(body: bytes) -> str:
    text = ET.fromstring(body).find(f"./{{{SOAP_NS}}}Body/{{{NS}}}Echo/{{{NS}}}text")
    if text is None:
        raise ValueError("not an Echo call")
    return text.text or ""


def start() -> dict:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like zeep's requests session

        def do_GET(self) -> None:
            self._answer(200, WSDL.format(ns=NS, url=url).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                text = _echoed(body)
            except (ET.ParseError, ValueError) as exc:
                self._answer(400, f"bad request: {exc}\n".encode(), "text/plain")
                return
            time.sleep(WAIT_S)
            self._answer(200, RESPONSE.format(soap=SOAP_NS, ns=NS, text=escape(text)).encode())

        def _answer(self, status: int, body: bytes, content_type: str = "text/xml") -> None:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"url": url, "wsdl": url + "?wsdl"}
