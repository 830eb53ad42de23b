"""How a face offers an operation as a method: `get_prediction = blocking(PredictionOps.
get_prediction)` in SyncCacheService, `awaited(...)` in CacheService. The signature and the
docstring are the operation's, written once in operations.py; the face only runs it."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from .instructions import Operation
from .operations import PredictionOps

P = ParamSpec("P")
T = TypeVar("T")
OpMethod = Callable[Concatenate[PredictionOps, P], Operation[T]]


class Face(Protocol):
    """What a face holds: the operations and something that runs them."""

    _ops: PredictionOps
    executor: Any


class _Method(Generic[P, T]):
    """A method of a face made from an operation (bound once per instance, then cached in the
    instance's __dict__ so later calls skip this descriptor)."""

    def __init__(self, op: OpMethod[P, T]) -> None:
        self.op = op
        self.name = op.__name__
        self.__doc__ = op.__doc__
        self.__wrapped__ = op
        parameters = list(inspect.signature(op).parameters.values())[1:]  # without `self`
        self.__signature__ = inspect.signature(op).replace(parameters=parameters)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _bind(self, face: Face, method: Callable[..., Any]) -> None:
        functools.update_wrapper(method, self.op)
        method.__signature__ = self.__signature__  # type: ignore[attr-defined]
        face.__dict__[self.name] = method


class blocking(_Method[P, T]):
    """A blocking method: drives the operation to its result with the face's executor."""

    @overload
    def __get__(self, face: None, owner: type) -> blocking[P, T]: ...
    @overload
    def __get__(self, face: Face, owner: type) -> Callable[P, T]: ...
    def __get__(self, face: Face | None, owner: type) -> blocking[P, T] | Callable[P, T]:
        if face is None:
            return self
        op, ops, run = self.op, face._ops, face.executor.run

        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = run(op(ops, *args, **kwargs))
            return result

        self._bind(face, method)
        return method


class awaited(_Method[P, T]):
    """A coroutine method: awaits the operation with the face's asyncio executor."""

    @overload
    def __get__(self, face: None, owner: type) -> awaited[P, T]: ...
    @overload
    def __get__(self, face: Face, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, face: Face | None, owner: type
    ) -> awaited[P, T] | Callable[P, Coroutine[Any, Any, T]]:
        if face is None:
            return self
        op, ops, run = self.op, face._ops, face.executor.run

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = await run(op(ops, *args, **kwargs))
            return result

        self._bind(face, method)
        return method
