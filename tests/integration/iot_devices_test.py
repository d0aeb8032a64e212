#!/usr/bin/env python3
"""What a city's integrators meet after the first provisioning, over HTTP only (no broker):

- a service group change (PUT /iot/services) reaches devices already provisioned: their next
  message maps with the group's new attributes and expression; deleting the group leaves its
  devices with their own configuration;
- liveness survives a restart (kill -9): a device silent across it goes offline once its timeout
  has passed since it was last seen (not since the restart), and one that was offline stays offline;
- commands for devices with transport HTTP: POSTed to the device's endpoint (a local http.server
  here), whose answer lands in <cmd>_status / <cmd>_info; an unreachable endpoint gives ERROR; a
  device without an endpoint polls its commands with getCmd=1 and answers like a measure.

    python3 iot_devices_test.py --binary build/release/citytwin
"""

import http.server
import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, test_arguments  # noqa: E402

TENANT = "chaoyang"
PROVISION = {"fiware-service": TENANT, "fiware-servicepath": "/", "Content-Type": "application/json"}
READ = {"NGSILD-Tenant": TENANT}
WRITE = {"NGSILD-Tenant": TENANT, "Content-Type": "application/json"}


def key_values(server, entity_id):
    r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % entity_id, headers=READ)
    return r.json() if r.status == 200 else {"status": r.status}


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def measure(server, apikey, device, payload):
    return server.request("POST", "/iot/d?k=%s&i=%s" % (apikey, device), headers={"Content-Type": "text/plain"},
                          body=payload)


def group_change(t, server):
    t.step("a service group change reaches a device provisioned before it")
    r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{
        "apikey": "bridge-key", "resource": "/iot/d", "entity_type": "Bridge",
        "attributes": [{"object_id": "s", "name": "strain", "type": "Number"}]}]})
    t.expect_status(r, 201, "POST /iot/services")
    r = server.request("POST", "/iot/devices", headers=PROVISION, json_body={"devices": [
        {"device_id": "gauge1", "attributes": [{"object_id": "d", "name": "deflection", "type": "Number"}]}]})
    t.expect_status(r, 201, "POST /iot/devices (a device that takes its group's mapping)")
    entity = "urn:ngsi-ld:Bridge:gauge1"
    t.expect_status(measure(server, "bridge-key", "gauge1", "s|120|d|4"), 200, "a measure")
    t.expect_equal([key_values(server, entity).get(k) for k in ("strain", "deflection")], [120, 4],
                   "mapped with the group's attribute and the device's own")
    r = server.request("PUT", "/iot/services?resource=/iot/d&apikey=bridge-key", headers=PROVISION, json_body={
        "entity_type": "Viaduct", "timeout": 600,
        "attributes": [{"object_id": "s", "name": "microstrain", "type": "Number", "expression": "${@value * 1000}"},
                       {"object_id": "d", "name": "groupDeflection", "type": "Number"}],
        "static_attributes": [{"name": "structure", "type": "Text", "value": "Jianguomen"}]})
    t.expect_status(r, 204, "PUT /iot/services changes the group's mapping")
    t.expect_equal(key_values(server, entity).get("structure"), "Jianguomen",
                   "the group's new static attribute is on the device's entity at once")
    t.expect_status(measure(server, "bridge-key", "gauge1", "s|0.125|d|5"), 200, "the next measure")
    e = key_values(server, entity)
    t.expect_equal(e.get("microstrain"), 125, "maps with the group's new attribute and expression")
    t.expect_equal([e.get("deflection"), e.get("groupDeflection")], [5, None], "the device's own mapping still wins")
    d = server.request("GET", "/iot/devices/gauge1", headers=PROVISION).json()
    t.expect_equal([d.get("entity_name"), d.get("entity_type")], [entity, "Bridge"],
                   "the entity a device feeds stays what it was provisioned with")
    r = server.request("DELETE", "/iot/services?resource=/iot/d&apikey=bridge-key", headers=PROVISION)
    t.expect_status(r, 204, "DELETE /iot/services")
    t.expect_equal(server.request("GET", "/iot/devices/gauge1", headers=PROVISION).status, 200,
                   "the group's device stays provisioned (as in the IoT Agents)")
    t.expect_status(measure(server, "bridge-key", "gauge1", "s|0.5|d|6"), 200, "and keeps sending")
    e = key_values(server, entity)
    t.expect_equal([e.get("deflection"), e.get("microstrain"), e.get("s")], [6, 125, "0.5"],
                   "with its own mapping only: s is no longer mapped (kept as UltraLight text)")


class DeviceEndpoint(http.server.BaseHTTPRequestHandler):
    """A device that listens for commands: answers <device>@<command>|pong."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        DeviceEndpoint.received.append((self.headers.get("Content-Type"), body))
        answer = (body.split("|", 1)[0] + "|pong").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def http_commands(t, server):
    t.step("commands for HTTP devices: pushed to the endpoint, or polled with getCmd=1")
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeviceEndpoint)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{
            "apikey": "lamp-key", "entity_type": "Streetlight"}]})
        t.expect_status(r, 201, "a group for street lights")
        r = server.request("POST", "/iot/devices", headers=PROVISION, json_body={"devices": [
            {"device_id": "lamp1", "apikey": "lamp-key", "protocol": "PDI-IoTA-UltraLight", "transport": "HTTP",
             "endpoint": "http://127.0.0.1:%d/lamp1" % endpoint.server_address[1], "commands": [{"name": "dim"}]},
            {"device_id": "lamp2", "apikey": "lamp-key", "protocol": "PDI-IoTA-UltraLight", "transport": "HTTP",
             "endpoint": "http://127.0.0.1:1/lamp2", "commands": [{"name": "dim"}]},
            {"device_id": "lamp3", "apikey": "lamp-key", "protocol": "PDI-IoTA-UltraLight", "transport": "HTTP",
             "commands": [{"name": "dim"}, {"name": "blink"}]}]})
        t.expect_status(r, 201, "three HTTP devices: one listening, one unreachable, one without an endpoint")
        r = server.request("POST", "/iot/devices", headers=PROVISION, json_body={"devices": [
            {"device_id": "lamp9", "transport": "HTTP", "endpoint": "https://lamp9.example/"}]})
        t.expect_status(r, 400, "an https endpoint is refused (not supported for device commands)")

        lamp1 = "urn:ngsi-ld:Streetlight:lamp1"
        r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % lamp1, headers=WRITE,
                           json_body={"dim": {"type": "Property", "value": "40"}})
        t.expect_status(r, 204, "PATCH the command attribute through NGSI-LD")
        t.expect(wait_until(lambda: key_values(server, lamp1).get("dim_status") == "OK"), "dim_status OK")
        t.expect_equal(key_values(server, lamp1).get("dim_info"), "pong", "dim_info holds the device's answer")
        t.expect_equal(DeviceEndpoint.received, [("text/plain", "lamp1@dim|40")],
                       "the device's endpoint got the UltraLight command")

        lamp2 = "urn:ngsi-ld:Streetlight:lamp2"
        server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % lamp2, headers=WRITE,
                       json_body={"dim": {"type": "Property", "value": "40"}})
        t.expect(wait_until(lambda: key_values(server, lamp2).get("dim_status") == "ERROR"),
                 "an unreachable endpoint: dim_status ERROR")
        t.expect(str(key_values(server, lamp2).get("dim_info")).startswith("the device cannot be reached"),
                 "dim_info says why", actual=key_values(server, lamp2).get("dim_info"))

        lamp3 = "urn:ngsi-ld:Streetlight:lamp3"
        for command, value in [("dim", "10"), ("blink", "3")]:
            server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % lamp3, headers=WRITE,
                           json_body={command: {"type": "Property", "value": value}})
        t.expect(wait_until(lambda: key_values(server, lamp3).get("blink_status") == "PENDING"),
                 "a device without an endpoint: its commands wait (PENDING)")
        r = measure(server, "lamp-key", "lamp3", "on|1")
        t.expect_equal(r.text(), "", "a measure without getCmd gets no command")
        r = server.request("POST", "/iot/d?k=lamp-key&i=lamp3&getCmd=1", headers={"Content-Type": "text/plain"},
                           body="on|1")
        t.expect_equal([r.status, r.text()], [200, "lamp3@dim|10#lamp3@blink|3"],
                       "the next measure with getCmd=1 gets both commands")
        t.expect_equal(key_values(server, lamp3).get("dim_status"), "DELIVERED", "dim_status DELIVERED")
        r = server.request("GET", "/iot/d?k=lamp-key&i=lamp3&getCmd=1")
        t.expect_equal([r.status, r.text()], [200, ""], "delivered once")
        r = measure(server, "lamp-key", "lamp3", "lamp3@dim|dimmed to 10")
        t.expect_status(r, 200, "the device answers like a measure")
        e = key_values(server, lamp3)
        t.expect_equal([e.get("dim_status"), e.get("dim_info"), e.get("on")], ["OK", "dimmed to 10", "1"],
                       "dim_status OK, dim_info the answer; the measure before it written")
    finally:
        endpoint.shutdown()


def liveness_across_restart(t, server):
    t.step("liveness survives a restart (kill -9)")
    r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{
        "apikey": "pipe-key", "entity_type": "WaterMeter"}]})
    t.expect_status(r, 201, "a group for water meters")
    r = server.request("POST", "/iot/devices", headers=PROVISION, json_body={"devices": [
        {"device_id": "meter1", "apikey": "pipe-key", "timeout": 3},
        {"device_id": "meter2", "apikey": "pipe-key", "timeout": 1}]})
    t.expect_status(r, 201, "two meters, timeouts 3 s and 1 s")
    measure(server, "pipe-key", "meter2", "f|1")
    t.expect(wait_until(lambda: key_values(server, "urn:ngsi-ld:Device:meter2").get("deviceState") == "offline"),
             "meter2 offline before the restart")
    last_seen = time.monotonic()
    t.expect_status(measure(server, "pipe-key", "meter1", "f|2"), 200, "meter1 speaks, then stays silent")
    time.sleep(1.5)  # counted from the restart, its silence would end at 1.5 + 3 s at the earliest
    before_restart = time.monotonic()
    server.restart(crash=True)  # kill -9: meter1's last-seen time never reached the store
    restart_took = time.monotonic() - before_restart
    r = server.request("GET", "/iot/devices/meter2", headers=PROVISION).json()
    t.expect_equal(r.get("deviceState"), "offline", "meter2 is still offline after the restart, not unknown")
    t.expect_equal(server.request("GET", "/iot/devices/meter1", headers=PROVISION).json().get("deviceState"),
                   "online", "meter1 is still online")
    offline = wait_until(
        lambda: key_values(server, "urn:ngsi-ld:Device:meter1").get("deviceState") == "offline", timeout=8)
    t.expect(offline, "meter1 goes offline after the restart")
    elapsed = time.monotonic() - last_seen
    print("    meter1 offline %.2f s after it spoke; the restart took %.2f s" % (elapsed, restart_took))
    t.expect(elapsed < 1.5 + restart_took + 3, "its 3 s count from when it was last seen, not from the restart",
             "< %.1f s after it spoke" % (1.5 + restart_took + 3), "%.1f s" % elapsed)
    t.expect_equal(key_values(server, "urn:ngsi-ld:Device:meter2").get("deviceState"), "offline",
                   "meter2's Device entity still says offline")


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("iot_devices_test")
    with Server(args.binary, keep=args.keep) as server:
        group_change(t, server)
        http_commands(t, server)
        liveness_across_restart(t, server)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
