"""Use-cases: each one database transaction writing the ticket, its timeline and its outbox rows."""

from bot.service.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceError,
    UserInputError,
)
from bot.service.use_cases import TicketService

__all__ = [
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "ServiceError",
    "TicketService",
    "UserInputError",
]
