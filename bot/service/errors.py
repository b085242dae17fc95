"""Errors a use-case raises; each carries a plain-words `message` fit to show the user.

ServiceError
 ├── NotFoundError     no such ticket (or not one of yours)
 ├── UserInputError    the request itself is wrong (empty title, unknown technician, …)
 ├── ForbiddenError    the actor's role may not do this at all (a report for a non-manager)
 └── ConflictError     someone else changed the ticket first (two managers assigning at once)
bot.domain.tickets.TransitionError (wrong role / wrong state / missing note) is raised as is.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    pass


class UserInputError(ServiceError):
    pass


class ConflictError(ServiceError):
    pass


class ForbiddenError(ServiceError):
    pass
