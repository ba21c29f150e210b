"""Modules: Ansible-compatible task modules as pure planners (see base.py). `REGISTRY` maps names
(short and `ansible.builtin.*` / collection names) to module objects; `registry.py` builds it."""
