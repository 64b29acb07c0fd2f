"""Independent signers and token issuers for the security suites: stock PyPI libraries, not our code.

    signers.py keys                      -> {"rsa": {private_pem, public_pem, jwk}, "ec": ..., "ed25519": ...}
    signers.py certs DIR                 -> a test CA, server certs (a.test, b.test), client certs
    signers.py jwt ALG KEY CLAIMS [KID]  -> a token (PyJWT); KEY is a secret or a private key PEM
    signers.py jwt-many ALG KEY CLAIMS K1,K2 -> one token per kid, a line each
    signers.py forged-hs256 KEY CLAIMS KID -> an HS256 token keyed by KEY's bytes, made by hand
    signers.py rfc9421 METHOD URL BODY KEYID ALG KEY [--nonce] [--components a,b] [--created SECONDS]
                                         -> {"headers": {...}} from http-message-signatures 3
    signers.py request METHOD URL BODY KEYID ALG KEY [--nonce]
                                         -> {"status", "body"}: the call made by requests with
                                            requests-http-signature's auth (Content-Digest added by it)

KEY for hmac-sha256 is the shared secret as text; for ed25519 a PEM private key.
"""

import base64
import json
import sys


def keys():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    out = {}
    for name, private, algorithm in [
        ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm),
        ("ec", ec.generate_private_key(ec.SECP256R1()), ECAlgorithm),
        ("ed25519", ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm),
    ]:
        public = private.public_key()
        raw = None
        if name == "ed25519":
            raw = base64.b64encode(
                public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            ).decode()
        out[name] = {
            "private_pem": private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "public_pem": public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode(),
            "jwk": json.loads(algorithm.to_jwk(public)),
            "raw_public_base64": raw,
        }
    print(json.dumps(out))


def certs(directory):
    """A test CA; server certificates for a.test and b.test (a.test also for 127.0.0.1); a client
    certificate from the CA and one self-signed. Files DIR/<name>.pem and DIR/<name>.key; prints the
    SHA-256 of each client certificate's DER."""
    import datetime
    import hashlib
    import ipaddress
    import os

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(stem, cert, key):
        with open(os.path.join(directory, f"{stem}.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(os.path.join(directory, f"{stem}.key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

    def issue(subject, issuer_name, issuer_key, key, ca=False, sans=(), usage=None):
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        if usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue("gateway test CA", name("gateway test CA"), ca_key, ca_key, ca=True)
    write("ca", ca, ca_key)
    for stem, sans in [("a", [x509.DNSName("a.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       ("b", [x509.DNSName("b.test")])]:
        key = ec.generate_private_key(ec.SECP256R1())
        write(stem, issue(f"{stem}.test", ca.subject, ca_key, key, sans=sans, usage=ExtendedKeyUsageOID.SERVER_AUTH), key)
    out = {}
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = issue("partner", ca.subject, ca_key, client_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    write("client", client, client_key)
    out["client"] = hashlib.sha256(client.public_bytes(serialization.Encoding.DER)).hexdigest()
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = issue("stranger", name("stranger"), stranger_key, stranger_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    write("stranger", stranger, stranger_key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = issue("other", ca.subject, ca_key, other_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    write("other", other, other_key)
    print(json.dumps(out))


def token(alg, key, claims, kid=None):
    import jwt

    headers = {"kid": kid} if kid else None
    print(jwt.encode(json.loads(claims), key, algorithm=alg, headers=headers))


def tokens(alg, key, claims, kids):
    """One token per kid (comma-separated), a line each."""
    import jwt

    for kid in kids.split(","):
        print(jwt.encode(json.loads(claims), key, algorithm=alg, headers={"kid": kid}))


def forged_hs256(key, claims, kid):
    """An HS256 token keyed by `key` as raw bytes, built by hand: what an attacker does with an RSA public
    key when a verifier lets the token choose the algorithm (PyJWT itself refuses to)."""
    import hashlib
    import hmac

    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(claims.encode())
    mac = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    print(f"{header}.{payload}.{b64(mac)}")


def algorithm(name):
    from http_message_signatures import algorithms

    return {"hmac-sha256": algorithms.HMAC_SHA256, "ed25519": algorithms.ED25519}[name]


def key_material(alg, key):
    if alg == "hmac-sha256":
        return key.encode()
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(key.encode(), password=None)


def rfc9421(method, url, body, key_id, alg, key, nonce, components, created):
    import datetime

    import requests
    from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver

    class Keys(HTTPSignatureKeyResolver):
        def resolve_private_key(self, requested):
            return key_material(alg, key)

    request = requests.Request(method, url, data=body.encode() if body else None).prepare()
    if body:
        request.headers["Content-Type"] = "application/json"
    signer = HTTPMessageSigner(signature_algorithm=algorithm(alg), key_resolver=Keys())
    when = datetime.datetime.fromtimestamp(created) if created else datetime.datetime.now()
    # With `body`, the library computes Content-Digest itself and covers it.
    signer.sign(
        request,
        key_id=key_id,
        created=when,
        nonce=nonce,
        covered_component_ids=list(components),
        include_alg=True,
        body=body.encode() if body else None,
    )
    print(json.dumps({"headers": dict(request.headers)}))


def request(method, url, body, key_id, alg, key, nonce):
    import requests
    from requests_http_signature import HTTPSignatureAuth

    # The shared secret's bytes for HMAC, the private key's PEM bytes otherwise.
    auth = HTTPSignatureAuth(signature_algorithm=algorithm(alg), key=key.encode(), key_id=key_id, use_nonce=nonce)
    headers = {"Content-Type": "application/json"} if body else {}
    response = requests.request(method, url, data=body.encode() if body else None, headers=headers, auth=auth, timeout=10)
    print(json.dumps({"status": response.status_code, "body": response.text}))


def main(argv):
    command, rest = argv[1], argv[2:]
    # A PEM argument starts with "-----", which is no flag.
    is_flag = lambda a: a.startswith("--") and not a.startswith("---")
    flags = [a for a in rest if is_flag(a)]
    args = [a for a in rest if not is_flag(a)]
    option = lambda name, default=None: next((f.split("=", 1)[1] for f in flags if f.startswith(f"--{name}=")), default)
    if command == "keys":
        keys()
    elif command == "certs":
        certs(*args)
    elif command == "jwt":
        token(*args)
    elif command == "jwt-many":
        tokens(*args)
    elif command == "forged-hs256":
        forged_hs256(*args)
    elif command == "rfc9421":
        method, url, body, key_id, alg, key = args
        nonce = option("nonce") or (None if "--nonce" not in flags else __import__("secrets").token_urlsafe(12))
        components = option("components", "@method,@authority,@target-uri").split(",")
        created = option("created")
        rfc9421(method, url, body, key_id, alg, key, nonce, components, int(created) if created else None)
    elif command == "request":
        method, url, body, key_id, alg, key = args
        request(method, url, body, key_id, alg, key, "--nonce" in flags)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
