#!/usr/bin/env python3
"""Device provisioning and ingestion end to end, through a real mosquitto broker (started here on a
free loopback port), mosquitto_pub / mosquitto_sub, curl and HTTP:

- provisioning (/iot/services, /iot/devices) in the tenant named by fiware-service; the device's
  entity and its Device entity; refusals (400, 409, 404); the registry survives a restart;
- measures over HTTP (/iot/d UltraLight, /iot/json JSON) and MQTT (/<k>/<d>/attrs, /attrs/<object_id>),
  with attribute mapping, expressions, TimeInstant and several readings;
- bad input (malformed payload, unknown apikey, unknown device, a value that does not convert, a
  topic outside the scheme, one device's key naming another device): dropped, counted in /metrics,
  logged once per device and minute, and the other devices keep working;
- a command written through NGSI-LD reaches a simulated device on /cmd and its answer on /cmdexe
  updates <cmd>_status and <cmd>_info;
- liveness: a silent device is marked offline on its Device entity, online again when it speaks;
- measures over CoAP (coap-client: /iot/d and /iot/json, 2.04 / 4.00 / 4.04);
- auto-provisioning for a known service group; MQTT v5 shared subscriptions across two nodes.

    python3 iot_ingest_test.py --binary build/release/citytwin
"""

import json
import os
import shutil
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ngsi_session import Checker, Server, free_port, test_arguments  # noqa: E402
from testkit import Broker, publish  # noqa: E402

TENANT = "haidian"
PROVISION = {"fiware-service": TENANT, "fiware-servicepath": "/air", "Content-Type": "application/json"}
READ = {"NGSILD-Tenant": TENANT}
STATION = "urn:ngsi-ld:AirQualityObserved:dongsi"
OTHER = "urn:ngsi-ld:AirQualityObserved:tiantan"


def key_values(server, entity_id):
    r = server.request("GET", "/ngsi-ld/v1/entities/%s?options=keyValues" % entity_id, headers=READ)
    return r.json() if r.status == 200 else {"status": r.status}


def metrics(server):
    out = {}
    for line in server.request("GET", "/metrics").text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def provision(t, server):
    t.step("provisioning a service group and devices (IoT Agent API) in tenant " + TENANT)
    r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{
        "apikey": "air-key", "resource": "/iot/d", "entity_type": "AirQualityObserved", "cbroker": "http://ignored",
        "attributes": [{"object_id": "t", "name": "temperature", "type": "Number", "unitCode": "CEL"}]}]})
    t.expect_status(r, 201, "POST /iot/services")
    r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{"apikey": "air-key"}]})
    t.expect_problem(r, 409, "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists", "the same apikey again")
    r = server.request("POST", "/iot/services", headers=PROVISION, json_body={"services": [{
        "apikey": "auto-key", "entity_type": "NoiseLevelObserved", "autoprovision": True}]})
    t.expect_status(r, 201, "a second group, with autoprovision")
    r = server.request("POST", "/iot/devices", headers=PROVISION, json_body={"devices": [
        {"device_id": "dongsi", "entity_name": STATION, "protocol": "PDI-IoTA-UltraLight", "transport": "MQTT",
         "attributes": [{"object_id": "p", "name": "pm25", "type": "Number", "expression": "${@value * 0.1}"},
                        {"object_id": "n", "name": "count", "type": "Integer"},
                        {"object_id": "loc", "name": "location", "type": "geo:point"}],
         "commands": [{"name": "reset", "type": "command"}],
         "static_attributes": [{"name": "stationName", "type": "Text", "value": "Dongsi"}]},
        {"device_id": "tiantan", "entity_name": OTHER, "protocol": "PDI-IoTA-JSON", "timeout": 1,
         "commands": [{"name": "ping", "type": "command"}]}]})
    t.expect_status(r, 201, "POST /iot/devices")
    for body, status, what in [
            ({"devices": [{"entity_name": "urn:x:1"}]}, 400, "a device without device_id"),
            ({"devices": [{"device_id": "a/b"}]}, 400, "a device_id with a topic separator"),
            ({"devices": [{"device_id": "x", "entity_name": "not a uri"}]}, 400, "an entity_name that is no URI"),
            ({"devices": [{"device_id": "x", "attributes": [{"object_id": "t", "name": "t", "type": "Number",
                                                             "expression": "${@value * foo()}"}]}]},
             400, "an expression that is not arithmetic"),
            ({"devices": [{"device_id": "x", "entity_name": OTHER}]}, 409, "a second device for the same entity"),
            ({"devices": [{"device_id": "dongsi"}]}, 409, "a device_id already provisioned"),
            ({"services": []}, 400, "no devices array")]:
        r = server.request("POST", "/iot/devices", headers=PROVISION, json_body=body)
        t.expect_status(r, status, what)
    r = server.request("POST", "/iot/devices", headers=PROVISION, body="{not json")
    t.expect_status(r, 400, "a body that is not JSON")
    r = server.request("GET", "/iot/devices", headers=PROVISION)
    t.expect_equal(r.json().get("count"), 2, "GET /iot/devices counts the tenant's devices")
    t.expect_equal(server.request("GET", "/iot/devices").json().get("count"), 0, "the default tenant has none")
    r = server.request("GET", "/iot/devices/dongsi", headers=PROVISION)
    t.expect_equal([r.json().get(k) for k in ("entity_name", "entity_type", "apikey", "service_path")],
                   [STATION, "AirQualityObserved", "air-key", "/air"], "the device inherits its group's apikey and type")
    t.expect_equal(server.request("GET", "/iot/devices/nosuch", headers=PROVISION).status, 404, "an unknown device")
    station = key_values(server, STATION)
    t.expect_equal([station.get("stationName"), station.get("reset_status")], ["Dongsi", "UNKNOWN"],
                   "the device's entity has its static attributes and commands")
    device = key_values(server, "urn:ngsi-ld:Device:dongsi")
    t.expect_equal([device.get("type"), device.get("controlledAsset")], ["Device", STATION],
                   "each device is a Smart Data Model Device entity")


def http_measures(t, server):
    t.step("measures over HTTP: UltraLight and JSON, several readings, TimeInstant, mapping, expression")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: text/plain",
                        "--data-binary", "2024-01-01T08:00:00Z|t|20.5|p|300#t|21.5|p|310|n|7|loc|39.93,116.42",
                        server.base_url + "/iot/d?k=air-key&i=dongsi"], capture_output=True, text=True, timeout=10)
    t.expect_equal(r.stdout, "200", "curl POST /iot/d (two UltraLight readings)")
    r = server.request("GET", "/ngsi-ld/v1/entities/%s" % STATION, headers=READ)
    e = r.json()
    t.expect_equal(e.get("temperature", {}).get("value"), 21.5, "the last reading wins; t mapped to temperature")
    t.expect_equal(e.get("temperature", {}).get("unitCode"), "CEL", "unitCode from the group's mapping")
    t.expect_equal(e.get("pm25", {}).get("value"), 31.0, "the expression ${@value * 0.1} applied")
    t.expect_equal(e.get("count", {}).get("value"), 7, "an Integer")
    t.expect_equal(e.get("location", {}).get("value"), {"type": "Point", "coordinates": [116.42, 39.93]},
                   "geo:point became a GeoProperty Point")
    r = server.request("POST", "/iot/json?k=air-key&i=dongsi", headers={"Content-Type": "application/json"},
                       body=json.dumps([{"t": 22, "TimeInstant": "2024-01-01T09:00:00Z"}, {"t": 23, "hum": 40}]))
    t.expect_status(r, 200, "POST /iot/json (an array: two readings)")
    e = server.request("GET", "/ngsi-ld/v1/entities/%s" % STATION, headers=READ).json()
    t.expect_equal([e.get("temperature", {}).get("value"), e.get("hum", {}).get("value")], [23, 40],
                   "JSON readings; an unmapped measure keeps its name")
    r = server.request("POST", "/iot/json?k=air-key&i=dongsi", headers={"Content-Type": "application/json"},
                       body='{"t": 24, "TimeInstant": "2024-01-01T10:00:00Z"}')
    e = server.request("GET", "/ngsi-ld/v1/entities/%s" % STATION, headers=READ).json()
    t.expect_equal(e.get("temperature", {}).get("observedAt"), "2024-01-01T10:00:00.000Z", "TimeInstant is observedAt")
    for target, body, status, what in [
            ("/iot/d?k=air-key&i=dongsi", "t|1|p", 400, "malformed UltraLight"),
            ("/iot/json?k=air-key&i=dongsi", "{\"t\": ", 400, "malformed JSON"),
            ("/iot/d?k=air-key&i=dongsi", "t|hot", 400, "a value that is not a Number"),
            ("/iot/d?k=no-such-key&i=dongsi", "t|1", 404, "an unknown apikey"),
            ("/iot/d?k=air-key&i=nobody", "t|1", 404, "an unknown device"),
            ("/iot/d?k=air-key", "t|1", 400, "no device id")]:
        r = server.request("POST", target, headers={"Content-Type": "text/plain"}, body=body)
        t.expect_status(r, status, what)
    t.expect_equal(key_values(server, STATION).get("temperature"), 24, "nothing refused changed the entity")


def mqtt_measures(t, server, broker):
    t.step("measures over MQTT (mosquitto_pub): UltraLight, JSON, /attrs/<object_id>")
    publish(broker, "/air-key/dongsi/attrs", "t|25|p|400")
    t.expect(wait_until(lambda: key_values(server, STATION).get("temperature") == 25), "UltraLight on /attrs")
    t.expect_equal(key_values(server, STATION).get("pm25"), 40.0, "with the expression")
    publish(broker, "/air-key/tiantan/attrs", '{"t": 12.5, "wind": 3}')
    t.expect(wait_until(lambda: key_values(server, OTHER).get("temperature") == 12.5), "JSON on /attrs (group mapping)")
    publish(broker, "/air-key/dongsi/attrs/p", "500")
    t.expect(wait_until(lambda: key_values(server, STATION).get("pm25") == 50.0), "one measure on /attrs/p")


def bad_input(t, server, broker):
    t.step("bad input over MQTT is dropped, counted, logged once per device and minute; others keep working")
    before = metrics(server)
    for i in range(5):
        publish(broker, "/air-key/dongsi/attrs", "t|not-a-number-%d" % i)  # bad value, five times
    for topic, payload in [("/air-key/dongsi/attrs", "t|1|p"),            # malformed
                           ("/wrong-key/dongsi/attrs", "t|99"),          # unknown apikey
                           ("/air-key/ghost/attrs", "t|99"),             # unknown device
                           ("/air-key/dongsi/telemetry", "t|99"),        # outside the scheme: not subscribed
                           ("/air-key/dongsi/attrs/a/b", "t|99"),        # not subscribed either
                           ("//dongsi/attrs", "t|99"),                   # subscribed, but no apikey
                           ("/auto-key/tiantan/attrs", "t|99")]:         # another group's key for tiantan
        publish(broker, topic, payload)
    publish(broker, "/air-key/tiantan/attrs", '{"t": 13.5}')
    t.expect(wait_until(lambda: key_values(server, OTHER).get("temperature") == 13.5),
             "the other device's message after the bad ones is written")
    after = metrics(server)

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)
    t.expect_equal(delta('citytwin_ingest_dropped_total{reason="bad_value"}'), 5, "five bad values counted")
    t.expect_equal(delta('citytwin_ingest_dropped_total{reason="malformed_payload"}'), 1, "a malformed payload counted")
    t.expect_equal(delta('citytwin_ingest_dropped_total{reason="unknown_apikey"}'), 1, "an unknown apikey counted")
    t.expect_equal(delta('citytwin_ingest_dropped_total{reason="bad_topic"}'), 1, "a topic without an apikey counted")
    t.expect_equal(delta('citytwin_ingest_dropped_total{reason="unknown_device"}'), 2,
                   "an unknown device, and a known device under another key (even one that auto-provisions)")
    t.expect_equal(delta("citytwin_ingest_autoprovisioned_total"), 0, "the other key did not take the device over")
    t.expect_equal(key_values(server, STATION).get("temperature"), 25, "no bad message changed the device's entity")
    t.expect_equal(key_values(server, OTHER).get("temperature"), 13.5, "nor the other device's")
    with open(server.log_path) as f:
        log = f.read()
    t.expect_equal(len(re.findall(r"air-key/dongsi\" \(bad_value\)", log)), 1, "five bad values, one log line")
    t.expect(after.get("citytwin_ingest_drop_logs_suppressed_total", 0) >= 4, "the others counted as suppressed")
    t.expect("citytwin_twin_entities" in after and "citytwin_notify_subscriptions" in after,
             "/metrics also shows the twin and notification figures")


def coap(t, server, coap_port):
    t.step("measures over CoAP (coap-client)")
    client = shutil.which("coap-client") or shutil.which("coap-client-notls")
    if not t.expect(client, "coap-client is installed (libcoap3-bin)"):
        return

    def post(resource, payload):
        r = subprocess.run([client, "-m", "post", "-B", "5", "-e", payload,
                            "coap://127.0.0.1:%d/%s" % (coap_port, resource)], capture_output=True, text=True, timeout=15)
        return (r.stdout + r.stderr).strip()
    t.expect_equal(post("iot/d?k=air-key&i=dongsi", "t|27.5|p|600"), "", "UltraLight over CoAP: 2.04, no diagnostic")
    t.expect_equal([key_values(server, STATION).get("temperature"), key_values(server, STATION).get("pm25")],
                   [27.5, 60.0], "written, mapped and converted")
    t.expect_equal(post("iot/json?k=air-key&i=tiantan", '{"t": 15}'), "", "JSON over CoAP")
    t.expect_equal(key_values(server, OTHER).get("temperature"), 15, "written")
    t.expect(post("iot/d?k=air-key&i=dongsi", "t|cold").startswith("4.00"), "a bad value: 4.00")
    t.expect(post("iot/d?k=nokey&i=dongsi", "t|1").startswith("4.04"), "an unknown apikey: 4.04")
    t.expect(post("iot/d?i=dongsi", "t|1").startswith("4.00"), "no apikey: 4.00")
    t.expect_equal(key_values(server, STATION).get("temperature"), 27.5, "nothing refused was written")
    t.expect_equal(metrics(server).get('citytwin_ingest_messages_total{transport="coap"}'), 2, "counted per transport")


def autoprovision(t, server, broker):
    t.step("auto-provisioning: an unknown device of a group with autoprovision")
    publish(broker, "/auto-key/mic7/attrs", '{"noise": 61}')
    entity = "urn:ngsi-ld:NoiseLevelObserved:mic7"
    t.expect(wait_until(lambda: key_values(server, entity).get("noise") == 61), "the new device's entity is written")
    r = server.request("GET", "/iot/devices/mic7", headers={"fiware-service": TENANT})
    t.expect_equal(r.json().get("autoprovisioned"), True, "the device is now provisioned")


def commands(t, server, broker):
    t.step("a command round-trips through a simulated device (mosquitto_sub, then mosquitto_pub on /cmdexe)")
    received = {}

    def device():
        r = subprocess.run(["mosquitto_sub", "-p", str(broker.port), "-t", "/air-key/dongsi/cmd", "-C", "1", "-W", "10"],
                           capture_output=True, text=True)
        received["payload"] = r.stdout.strip()
        if r.stdout:
            publish(broker, "/air-key/dongsi/cmdexe", "dongsi@reset|done in 2 s")
    thread = threading.Thread(target=device)
    thread.start()
    time.sleep(0.5)  # mosquitto_sub is subscribed
    r = server.request("PATCH", "/ngsi-ld/v1/entities/%s/attrs" % STATION,
                       headers={"NGSILD-Tenant": TENANT, "Content-Type": "application/json"},
                       json_body={"reset": {"type": "Property", "value": "now"}})
    t.expect_status(r, 204, "PATCH the command attribute through NGSI-LD")
    thread.join(15)
    t.expect_equal(received.get("payload"), "dongsi@reset|now", "the device received the UltraLight command on /cmd")
    done = wait_until(lambda: key_values(server, STATION).get("reset_status") == "OK")
    t.expect(done, "reset_status OK after the answer on /cmdexe")
    t.expect_equal(key_values(server, STATION).get("reset_info"), "done in 2 s", "reset_info holds the answer")


def liveness(t, server, broker):
    t.step("liveness: tiantan (timeout 1 s) goes offline when silent and online when it speaks")
    device = "urn:ngsi-ld:Device:tiantan"
    t.expect(wait_until(lambda: key_values(server, device).get("deviceState") == "offline", timeout=6),
             "offline after its timeout")
    t.expect_equal(key_values(server, "urn:ngsi-ld:Device:dongsi").get("deviceState"), "online",
                   "a device without a timeout is not watched")
    publish(broker, "/air-key/tiantan/attrs", '{"t": 14}')
    t.expect(wait_until(lambda: key_values(server, device).get("deviceState") == "online"), "online again")
    t.expect(metrics(server).get("citytwin_ingest_devices_came_online_total", 0) >= 1, "counted")


def restart(t, server, broker):
    t.step("the registry survives a restart")
    server.restart(crash=True)
    r = server.request("GET", "/iot/devices", headers={"fiware-service": TENANT})
    t.expect_equal(r.json().get("count"), 3, "three devices after kill -9 (two provisioned, one auto-provisioned)")
    time.sleep(0.5)  # the MQTT client reconnects
    publish(broker, "/air-key/dongsi/attrs", "t|26")
    t.expect(wait_until(lambda: key_values(server, STATION).get("temperature") == 26), "measures flow again")
    r = server.request("DELETE", "/iot/devices/dongsi", headers={"fiware-service": TENANT})
    t.expect_status(r, 204, "DELETE a device")
    publish(broker, "/air-key/dongsi/attrs", "t|27")
    time.sleep(0.3)
    t.expect_equal(key_values(server, STATION).get("temperature"), 26, "a deleted device's messages are dropped")


def shared_subscriptions(t, broker, args):
    t.step("two nodes in one MQTT v5 shared group split the messages")
    nodes = [Server(args.binary, keep=args.keep,
                    extra_args=["--mqtt", "mqtt://127.0.0.1:%d" % broker.port, "--mqtt-shared-group", "city"])
             for _ in range(2)]
    try:
        for node in nodes:
            node.start()
            node.request("POST", "/iot/services", headers={"Content-Type": "application/json"},
                         json_body={"services": [{"apikey": "shared-key", "autoprovision": True}]})
        time.sleep(0.5)
        for i in range(20):
            publish(broker, "/shared-key/s%d/attrs" % (i % 4), "v|%d" % i)

        def total():
            counts = [metrics(n).get('citytwin_ingest_messages_total{transport="mqtt"}', 0) for n in nodes]
            return counts if sum(counts) >= 20 else None
        counts = wait_until(total) or [metrics(n).get('citytwin_ingest_messages_total{transport="mqtt"}', 0) for n in nodes]
        t.expect_equal(sum(counts), 20, "every message ingested once, by one of the nodes")
        t.expect(min(counts) > 0, "both nodes took some", "> 0 each", counts)
    finally:
        for node in nodes:
            node.stop()
            node.cleanup()


def main():
    args = test_arguments(__doc__.splitlines()[0]).parse_args()
    t = Checker("iot_ingest_test")
    broker = Broker().start()
    try:
        coap_port = free_port()
        with Server(args.binary, keep=args.keep, extra_args=["--mqtt", "mqtt://127.0.0.1:%d" % broker.port,
                                                               "--coap", "127.0.0.1:%d" % coap_port]) as server:
            provision(t, server)
            http_measures(t, server)
            mqtt_measures(t, server, broker)
            bad_input(t, server, broker)
            coap(t, server, coap_port)
            autoprovision(t, server, broker)
            commands(t, server, broker)
            liveness(t, server, broker)
            restart(t, server, broker)
        shared_subscriptions(t, broker, args)
    finally:
        broker.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
