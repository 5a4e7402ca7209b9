"""Command groups of the ``wangge`` CLI that live beside their use cases."""
