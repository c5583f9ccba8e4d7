"""Cheap Gradio sessions: a new session's per-component configs are made when first needed, not all at once.

Gradio gives every visitor, and every API call that sends no session_hash, a SessionState. Its constructor
renders the config of every component of the page (`config_values`), on the server's event loop: ~10 ms
for this page's 149 blocks, for each new session, paid even by a /decode that touches none of them
(benchmarks/load.py: a sessionless /decode's cost grew with each view added). The configs are read only
when a session changes a component or a visitor reopens the page by a deep link; LazySessionState makes
each on its first use, so a session costs what it uses.

`install()` makes Gradio's StateHolder create LazySessionState; it checks first that SessionState looks
as this module expects, and otherwise leaves Gradio as it is (correct, only slower).
"""

import inspect
import logging
from types import MappingProxyType

from gradio import state_holder

LOG = logging.getLogger("ae.app")


class LazyConfigs(dict):
    """config_values made on demand: {block id: its config}, for the ids the page had when the session began."""

    def __init__(self, blocks_config, ids):
        super().__init__()
        self._blocks_config, self._order = blocks_config, tuple(ids)  # the page's order, as eager sessions keep
        self._ids = frozenset(self._order)

    def __missing__(self, key):
        if key not in self._ids:
            raise KeyError(key)
        value = self[key] = self._blocks_config.config_for_block(key, [], self._blocks_config.blocks[key])
        return value

    def _present(self) -> list:
        """The page's ids that still have a block, in the page's order (an eager session's order)."""
        return [key for key in self._order if key in self._blocks_config.blocks]

    def keys(self):
        return self._present()

    def __iter__(self):
        return iter(self._present())

    def items(self):
        return [(key, self[key]) for key in self._present()]

    def values(self):
        return [self[key] for key in self._present()]


class _WithoutBlocks:
    """The Blocks as SessionState's constructor sees it, minus its block table, so that the constructor's
    loop over the blocks renders none of them."""

    blocks = MappingProxyType({})

    def __init__(self, blocks):
        self._blocks = blocks

    def __getattr__(self, name):
        return getattr(self._blocks, name)


class LazySessionState(state_holder.SessionState):
    def __init__(self, blocks):
        super().__init__(_WithoutBlocks(blocks))
        self.config_values = LazyConfigs(self.blocks_config, blocks.blocks)


def install() -> bool:
    """Make Gradio's sessions lazy; returns whether it did (False: this Gradio's SessionState differs)."""
    try:
        source = inspect.getsource(state_holder.SessionState.__init__)
    except (OSError, TypeError):  # no source shipped (a zipped or compiled install): it cannot be checked
        source = ""
    if "self.config_values = {" not in source or "if k in blocks.blocks" not in source:
        LOG.warning("Gradio's SessionState is not as ae/ui/sessions.py expects; its sessions stay eager")
        return False
    state_holder.SessionState = LazySessionState  # StateHolder.__getitem__ looks the class up here
    return True
