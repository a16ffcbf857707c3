# Certificate helpers for up.sh. Source it; it defines functions only. All keys are ECDSA P-256,
# which every component accepts and which openssl generates in milliseconds.

# Creates a self-signed CA in DIR/ca.crt and DIR/ca.key.
pki_create_ca() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=streamcluster-test-ca -keyout "$dir/ca.key" -out "$dir/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null
}

# Issues DIR/NAME.crt and DIR/NAME.key signed by the CA in DIR. SUBJECT is an openssl subject
# such as /O=system:masters/CN=admin; the API server maps CN to the user and O to groups. SANS
# (optional) is a subjectAltName list such as IP:10.0.0.1,DNS:kubernetes.
pki_issue() {
  local dir=$1 name=$2 subject=$3 sans=${4:-}
  local extensions="$dir/$name.ext"
  {
    echo 'basicConstraints=critical,CA:FALSE'
    echo 'keyUsage=critical,digitalSignature,keyEncipherment'
    echo 'extendedKeyUsage=serverAuth,clientAuth'
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$extensions"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" -days 30 \
    -extfile "$extensions" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$extensions"
}

# Creates the key pair that signs and verifies service account tokens.
pki_create_service_account_key() {
  local dir=$1
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/service-account.key"
  openssl ec -in "$dir/service-account.key" -pubout -out "$dir/service-account.pub" 2>/dev/null
}

# Writes a kubeconfig at PATH for SERVER that authenticates with DIR/NAME.crt.
pki_write_kubeconfig() {
  local path=$1 server=$2 dir=$3 name=$4
  cat >"$path" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: $server
      certificate-authority: $dir/ca.crt
users:
  - name: $name
    user:
      client-certificate: $dir/$name.crt
      client-key: $dir/$name.key
contexts:
  - name: test
    context:
      cluster: test
      user: $name
current-context: test
EOF
}
