# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: a test-only AMD-like PKI made with openssl, shaped like AMD's (ARK and ASK
# RSA-4096 signing with RSASSA-PSS SHA-384 salt 48, a VCEK on EC P-384).
#   amd_test_pki DIR PRODUCT [azure]
# DIR gets ark.{key,crt}, ask.{key,crt}, vcek.key, vcek.der, vcek.pem and ask_ark.pem (the chain as
# ephroot-kbs's amd_roots takes it). Returns non-zero if the chain does not verify. With "azure" the
# VCEK carries AMD's extensions as a real one does (and as az-snp-vtpm requires): bootloader, TEE,
# SNP and microcode SPL (1.3.6.1.4.1.3704.1.3.{1,2,3,8}, INTEGER 0: a report with reported_tcb 0)
# and hwID (1.3.6.1.4.1.3704.1.4, the 64 bytes of DIR/chip_id.hex, made here).
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
        local vext=()
        if [ "${3:-}" = azure ]; then
                head -c 64 /dev/urandom | xxd -p -c 64 >"$1/chip_id.hex"
                printf '1.3.6.1.4.1.3704.1.3.%s=ASN1:INTEGER:0\n' 1 2 3 8 >"$1/vcek.ext"
                echo "1.3.6.1.4.1.3704.1.4=ASN1:FORMAT:HEX,OCTETSTRING:$(cat "$1/chip_id.hex")" >>"$1/vcek.ext"
                vext=(-extfile "$1/vcek.ext")
        fi
        openssl x509 -req -in "$1/vcek.csr" -CA "$1/ask.crt" -CAkey "$1/ask.key" -CAcreateserial -days 30 "${pss[@]}" \
                "${vext[@]}" -outform DER -out "$1/vcek.der" 2>/dev/null
        openssl x509 -inform DER -in "$1/vcek.der" -out "$1/vcek.pem"
        cat "$1/ask.crt" "$1/ark.crt" >"$1/ask_ark.pem"
        openssl verify -CAfile "$1/ark.crt" "$1/ask.crt" >/dev/null
}
