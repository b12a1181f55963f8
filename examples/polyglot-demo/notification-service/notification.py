"""The demo's notification-service: consumes `order.created` from Kafka and notifies the buyer's
device over MQTT 5; a device subscriber closes the chain. Traced by polytrace (Python binding)
through the OpenTelemetry API, following the messaging semantic conventions:

  order.created process      CONSUMER  parent: the order-service's PRODUCER span, whose context
                                       arrives in the record's traceparent/tracestate headers
                                       (and a link to it, as the conventions recommend)
    devices/<id>/notifications publish   PRODUCER  its context goes into the MQTT 5 PUBLISH
                                                   packet's user properties
      devices/<id>/notifications process CONSUMER  the device subscriber: parent extracted from
                                                   the user properties it received

Kafka client: confluent-kafka (librdkafka); MQTT client: paho-mqtt (MQTT 5) against a real
broker (mosquitto). Environment: KAFKA_BOOTSTRAP, ORDER_TOPIC (order.created), MQTT_PORT.
Prints `notification-service ready` once its consumer owns the topic's partitions, and one
`delivered order <id>` log line per notification the device got; SIGTERM/SIGINT stop it after a
flush. Log lines carry trace_id/span_id (opentelemetry-instrumentation-logging).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

import polytrace
from confluent_kafka import Consumer, KafkaError
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.trace import Link, SpanKind
from paho.mqtt import client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

provider = polytrace.install()
LoggingInstrumentor().instrument(
    set_logging_format=True,
    logging_format="%(asctime)s %(levelname)s [notification-service] trace_id=%(otelTraceID)s "
    "span_id=%(otelSpanID)s %(message)s",
)
log = logging.getLogger("notification")
tracer = trace.get_tracer("demo.notification-service", "0.1.0")

TOPIC = os.environ.get("ORDER_TOPIC", "order.created")
GROUP = "notification-service"
MQTT_PORT = int(os.environ.get("MQTT_PORT", "1883"))


def carrier_of_kafka(headers) -> dict[str, str]:
    """Kafka record headers (bytes values) as a text carrier for the propagator."""
    return {k: v.decode("utf-8", "replace") for k, v in (headers or []) if v is not None}


def carrier_of_mqtt(properties) -> dict[str, str]:
    """MQTT 5 user properties as a text carrier."""
    return dict(getattr(properties, "UserProperty", None) or [])


def mqtt_client(client_id: str) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", MQTT_PORT, keepalive=30)
    return c


class Device:
    """The buyer's device: an MQTT 5 subscriber whose span closes the trace."""

    def __init__(self) -> None:
        self.client = mqtt_client("device-simulator")
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self.on_message
        self.client.subscribe("devices/+/notifications", qos=1)
        self.client.loop_start()

    def on_message(self, client, userdata, msg) -> None:
        parent = propagate.extract(carrier_of_mqtt(msg.properties))
        with tracer.start_as_current_span(
            f"{msg.topic} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "mqtt",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": msg.topic,
                "messaging.message.body.size": len(msg.payload),
            },
        ):
            order = json.loads(msg.payload).get("order_id", "?")
            log.info("delivered order %s", order)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Notifier:
    def __init__(self) -> None:
        self.client = mqtt_client("notification-service")
        self.client.loop_start()

    def notify(self, event: dict) -> None:
        topic = f"devices/{event.get('device', 'unknown')}/notifications"
        payload = json.dumps({"order_id": event.get("order_id"), "text": "your order is confirmed"})
        with tracer.start_as_current_span(
            f"{topic} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "mqtt",
                "messaging.operation.type": "send",
                "messaging.operation.name": "publish",
                "messaging.destination.name": topic,
                "messaging.message.body.size": len(payload),
            },
        ):
            headers: dict[str, str] = {}
            propagate.inject(headers)  # traceparent (+ tracestate, baggage) of this span
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = list(headers.items())
            info = self.client.publish(topic, payload, qos=1, properties=props)
            info.wait_for_publish(timeout=10)
            log.info("notified %s", topic)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def process(record, notifier: Notifier) -> None:
    carrier = carrier_of_kafka(record.headers())
    parent = propagate.extract(carrier)
    producer = trace.get_current_span(parent).get_span_context()
    attributes = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": record.topic(),
        "messaging.destination.partition.id": str(record.partition()),
        "messaging.consumer.group.name": GROUP,
        "messaging.kafka.offset": record.offset(),
        "messaging.message.body.size": len(record.value() or b""),
    }
    if record.key() is not None:
        attributes["messaging.kafka.message.key"] = record.key().decode("utf-8", "replace")
    with tracer.start_as_current_span(
        f"{record.topic()} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=[Link(producer)] if producer.is_valid else None,
        attributes=attributes,
    ):
        event = json.loads(record.value())
        log.info("order.created %s (headers: %s)", event.get("order_id"), ", ".join(sorted(carrier)))
        notifier.notify(event)


def main() -> int:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stopping.set())
    signal.signal(signal.SIGINT, lambda *a: stopping.set())

    device = Device()
    if not device.subscribed.wait(30):
        log.error("MQTT subscription not acknowledged")
        return 1
    notifier = Notifier()
    ready = threading.Event()

    def on_assign(consumer, partitions):
        if partitions and not ready.is_set():
            ready.set()
            print("notification-service ready", flush=True)

    consumer = Consumer(
        {
            "bootstrap.servers": os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            "group.id": GROUP,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "reconnect.backoff.max.ms": 1000,
        }
    )
    consumer.subscribe([TOPIC], on_assign=on_assign)
    try:
        while not stopping.is_set():
            record = consumer.poll(0.2)
            if record is None:
                continue
            if record.error():
                if record.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka: %s", record.error())
                continue
            process(record, notifier)
    finally:
        consumer.close()
        notifier.stop()
        device.stop()
        provider.shutdown()
        log.info("notification-service stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
