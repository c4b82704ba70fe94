"""A pika BlockingConnection opened at import (RabbitMQ on 127.0.0.1:5672, guest/guest)."""

import pika

connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))


def use() -> None:
    connection.process_data_events(time_limit=0.3)
