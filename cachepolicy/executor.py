"""The drivers of sans-I/O operations, blocking and asyncio, and the one fail-open choke point
of each: `execute` runs a Send and turns every Redis fault into FAILED (counted, logged, breaker
tripped), as cashews' SafeRedis.execute_command does. Nothing else in the package catches a
Redis error, except the background thread's probe and flush."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .background import Maintainer
from .connection import (
    REDIS_ERRORS,
    AsyncClient,
    SyncClient,
    drop_async_connections,
    drop_connections,
    queue,
)
from .core import CacheCore, Value
from .instructions import (
    FAILED,
    Command,
    Failed,
    Instruction,
    Operation,
    Replies,
    Send,
    Sleep,
)
from .metrics import OTHER
from .operations import Tagged

T = TypeVar("T")
SyncCompute = Callable[[], "Value | Tagged"]
AsyncCompute = Callable[[], "Value | Tagged | Awaitable[Value | Tagged]"]


class SyncExecutor:
    """Runs operations on a blocking client. One per cache service (one pool per process)."""

    def __init__(self, core: CacheCore, client: SyncClient | None, maintainer: Maintainer):
        self.core = core
        self.client = client
        self.maintainer = maintainer
        self._trips = 0

    def execute(self, call: Send) -> Replies | Failed:
        """Replies of one call or one pipeline; FAILED when skipped or on any Redis fault."""
        if self.client is None or not self.core.usable():
            self.core.on_skipped(call)
            return FAILED
        self.maintainer.ensure_running()
        if self._trips != self.core.breaker.trips:  # back after an outage: no stale sockets
            self._trips = self.core.breaker.trips
            drop_connections(self.client)
        try:
            if len(call.commands) == 1:
                name, args, kwargs = call.commands[0]
                return [getattr(self.client, name)(*args, **kwargs)]
            pipe = self.client.pipeline(transaction=False)
            queue(pipe, call.commands)
            replies: Replies = pipe.execute(raise_on_error=False)
            return replies
        except REDIS_ERRORS as exc:
            self.core.on_fault(call, exc)
            self.maintainer.wake()
            return FAILED

    def send(self, op: str, *commands: Command, kind: str = OTHER, n: int = 1) -> Replies | Failed:
        """`execute` for commands at hand (the cache's own keys by default)."""
        return self.execute(Send(op, kind, commands, n))

    def run(self, operation: Operation[T], compute: SyncCompute | None = None) -> T:
        """Drive an operation to its result; an exception of `compute` is thrown into it (so
        its locks are released) and then raised here."""
        reply: object = None
        error: BaseException | None = None
        while True:
            try:
                instruction = operation.send(reply) if error is None else operation.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            try:
                if type(instruction) is Send:  # the common case, first
                    reply, error = self.execute(instruction), None
                else:
                    reply, error = self._perform(instruction, compute), None
            except BaseException as exc:  # handed to the operation, which re-raises it
                reply, error = None, exc

    def _perform(self, instruction: Instruction, compute: SyncCompute | None) -> object:
        if isinstance(instruction, Sleep):
            time.sleep(instruction.seconds)
            return None
        if compute is None:
            raise TypeError("this operation needs a compute function")
        return compute()


class AsyncExecutor:
    """Runs the same operations on an asyncio client."""

    def __init__(self, core: CacheCore, client: AsyncClient | None, maintainer: Maintainer):
        self.core = core
        self.client = client
        self.maintainer = maintainer
        self._trips = 0

    async def execute(self, call: Send) -> Replies | Failed:
        if self.client is None or not self.core.usable():
            self.core.on_skipped(call)
            return FAILED
        self.maintainer.ensure_running()
        if self._trips != self.core.breaker.trips:  # back after an outage: no stale sockets
            self._trips = self.core.breaker.trips
            await drop_async_connections(self.client)
        try:
            if len(call.commands) == 1:
                name, args, kwargs = call.commands[0]
                return [await getattr(self.client, name)(*args, **kwargs)]
            pipe = self.client.pipeline(transaction=False)
            queue(pipe, call.commands)
            replies: Replies = await pipe.execute(raise_on_error=False)
            return replies
        except REDIS_ERRORS as exc:
            self.core.on_fault(call, exc)
            self.maintainer.wake()
            return FAILED

    async def send(
        self, op: str, *commands: Command, kind: str = OTHER, n: int = 1
    ) -> Replies | Failed:
        return await self.execute(Send(op, kind, commands, n))

    async def run(self, operation: Operation[T], compute: AsyncCompute | None = None) -> T:
        reply: object = None
        error: BaseException | None = None
        while True:
            try:
                instruction = operation.send(reply) if error is None else operation.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            try:
                if type(instruction) is Send:  # the common case, first
                    reply, error = await self.execute(instruction), None
                else:
                    reply, error = await self._perform(instruction, compute), None
            except BaseException as exc:  # handed to the operation, which re-raises it
                reply, error = None, exc

    async def _perform(self, instruction: Instruction, compute: AsyncCompute | None) -> object:
        if isinstance(instruction, Sleep):
            await asyncio.sleep(instruction.seconds)
            return None
        if compute is None:
            raise TypeError("this operation needs a compute function")
        value = compute()
        return await value if inspect.isawaitable(value) else value
