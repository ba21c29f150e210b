"""sopctl: SOP/AS/32 automation and compliance runner (Ansible-style playbooks over SSH)."""

__version__ = "0.1.0"
