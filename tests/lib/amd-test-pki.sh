# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: a test-only AMD-like PKI made with openssl, shaped like AMD's (ARK and ASK
# RSA-4096 signing with RSASSA-PSS SHA-384 salt 48, a VCEK on EC P-384).
#   amd_test_pki DIR PRODUCT
# DIR gets ark.{key,crt}, ask.{key,crt}, vcek.key, vcek.der, vcek.pem and ask_ark.pem (the chain as
# ephroot-kbs's amd_roots takes it). Returns non-zero if the chain does not verify.
amd_test_pki() {
        local pss=(-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384)
        mkdir -p "$1"
        openssl genrsa -out "$1/ark.key" 4096 2>/dev/null
        openssl req -x509 -new -key "$1/ark.key" -subj "/CN=ARK-$2" -days 30 "${pss[@]}" \
                -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign -out "$1/ark.crt"
        openssl genrsa -out "$1/ask.key" 4096 2>/dev/null
        openssl req -new -key "$1/ask.key" -subj "/CN=SEV-$2" -out "$1/ask.csr"
        printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$1/ca.ext"
        openssl x509 -req -in "$1/ask.csr" -CA "$1/ark.crt" -CAkey "$1/ark.key" -CAcreateserial -days 30 "${pss[@]}" \
                -extfile "$1/ca.ext" -out "$1/ask.crt" 2>/dev/null
        openssl ecparam -name secp384r1 -genkey -noout -out "$1/vcek.key"
        openssl req -new -key "$1/vcek.key" -subj "/CN=SEV-VCEK" -out "$1/vcek.csr"
        openssl x509 -req -in "$1/vcek.csr" -CA "$1/ask.crt" -CAkey "$1/ask.key" -CAcreateserial -days 30 "${pss[@]}" \
                -outform DER -out "$1/vcek.der" 2>/dev/null
        openssl x509 -inform DER -in "$1/vcek.der" -out "$1/vcek.pem"
        cat "$1/ask.crt" "$1/ark.crt" >"$1/ask_ark.pem"
        openssl verify -CAfile "$1/ark.crt" "$1/ask.crt" >/dev/null
}
