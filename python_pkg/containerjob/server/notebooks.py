"""A notebook's declared parameters (its `parameters` cell), for the run and schedule dialogs, and the
values of what a dialog's user typed for them."""
from __future__ import annotations

from typing import Any

import tornado.web

from ..core.errors import SpecError
from ..core.parameter_texts import typed_parameters
from .base import ContainerJobHandler
from .bodies import under_root


def _declared(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in value):
        raise SpecError("parameters must be the list GET notebooks/parameters gave, each with a name and a type")
    return value


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(t, str) for t in value.values()):
        raise SpecError('texts must be an object of parameter name -> the text typed, e.g. {"epochs": "3"}')
    return value


class NotebookParametersHandler(ContainerJobHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = under_root(self.ctx.root_dir, self.get_query_argument("path", ""))
        self.reply({"parameters": await self.blocking(self.service.notebook_parameters, path)})

    @tornado.web.authenticated
    async def post(self) -> None:
        """The texts typed for the declared parameters: the changed ones as values, and what does not fit."""
        body = await self.blocking(self.json_body, ("parameters", "texts"))
        values, problems = typed_parameters(_declared(body.get("parameters", [])), _texts(body.get("texts", {})))
        self.reply({"values": values, "problems": [{"field": f, "message": m} for f, m in problems]})
