"""The SMTP sink, fed by the stdlib smtplib client on 127.0.0.1."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from bot.sandbox.mail import MailSink


def mail(subject: str, to: str = "dana@client.example") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "helpdesk@msp.example"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-').lower()}@msp.example>"
    msg.set_content(f"Body of {subject}\n")
    return msg


def send(sink: MailSink, message: EmailMessage) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        smtp.send_message(message)


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as running:
        yield running


def test_sink_keeps_parsed_messages_and_the_envelope(sink: MailSink) -> None:
    assert sink.url == f"smtp://127.0.0.1:{sink.port}"
    send(sink, mail("Ticket #1 received"))
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        smtp.send_message(mail("Ticket #1 resolved"), to_addrs=["dana@client.example", "cc@x.test"])
    first, second = sink.wait_for_messages(2)
    assert first.subject == "Ticket #1 received"
    assert first.mail_from == "helpdesk@msp.example"
    assert first.rcpt_tos == ("dana@client.example",)
    assert first["Message-ID"] == "<ticket-#1-received@msp.example>"
    assert first.text == "Body of Ticket #1 received\n"
    assert isinstance(first.message, EmailMessage)
    assert second.rcpt_tos == ("dana@client.example", "cc@x.test")


def test_paused_sink_refuses_connections_and_resumes_on_the_same_port(sink: MailSink) -> None:
    send(sink, mail("before"))
    port = sink.port
    sink.pause()
    with pytest.raises(OSError):
        send(sink, mail("while down"))
    sink.resume()
    assert sink.port == port
    send(sink, mail("after"))
    assert [m.subject for m in sink.wait_for_messages(2)] == ["before", "after"]


def test_fail_next_answers_data_with_a_temporary_error(sink: MailSink) -> None:
    sink.fail_next(1, code=451)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        send(sink, mail("first try"))
    assert caught.value.smtp_code == 451
    send(sink, mail("second try"))
    assert [m.subject for m in sink.wait_for_messages(1)] == ["second try"]


def test_wait_for_times_out_with_what_arrived(sink: MailSink) -> None:
    send(sink, mail("only one"))
    with pytest.raises(AssertionError, match=r"mail so far: \['only one'\]"):
        sink.wait_for(lambda: len(sink.messages) >= 2, timeout=0.05)
