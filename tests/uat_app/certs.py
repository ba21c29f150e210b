"""TLS certificates for the test application, made with `cryptography`.

`make_certificate(folder, days=365)` writes `<name>.pem` (a self-signed certificate for 127.0.0.1, also
usable as the CA file a checklist trusts) and `<name>.key`; `expired=True` makes one whose validity ended
yesterday. `issuer=(cert_path, key_path)` signs it with that (self-signed) certificate instead, like a
court's own CA: a client trusting the CA then rejects an expired server certificate as "certificate has
expired" (OpenSSL passes over an expired *self-signed* one in its trust store and says "self-signed").
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(folder: Path, name: str = "uji", *, days: int = 365, expired: bool = False,
                     host: str = "127.0.0.1", issuer: tuple[Path, Path] | None = None,
                     common_name: str | None = None) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pengadilan Agama Batulicin (uji)"),
                         x509.NameAttribute(NameOID.COMMON_NAME, common_name or host)])
    now = _dt.datetime.now(_dt.timezone.utc)
    if expired:
        not_before, not_after = now - _dt.timedelta(days=400), now - _dt.timedelta(days=1)
    else:
        not_before, not_after = now - _dt.timedelta(minutes=5), now + _dt.timedelta(days=days)
    signer_name, signer_key = subject, key
    if issuer is not None:
        signer_cert = x509.load_pem_x509_certificate(issuer[0].read_bytes())
        signer_name = signer_cert.subject
        signer_key = serialization.load_pem_private_key(issuer[1].read_bytes(), password=None)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(signer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=issuer is None,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(signer_key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path
