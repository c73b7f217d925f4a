package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jwtgate test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(priv)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	p := startServe(t, nil, "-data-dir", filepath.Join(dir, "data"), "-tls-cert", certFile, "-tls-key", keyFile)
	defer p.stop(t)
	url := strings.Replace(p.url, "http://", "https://", 1)
	if iss := logField(p.Logs(), "issuer", "msg=listening"); iss != url {
		t.Fatalf("issuer %q, want %q", iss, url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("healthz over TLS: %d %v", resp.StatusCode, resp.TLS)
	}
	// Cookies set over HTTPS are Secure.
	pw := logField(p.Logs(), "password", "username=admin")
	resp, err = client.Post(url+"/login?cookies=1", "application/json", strings.NewReader(`{"username":"admin","password":"`+pw+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
		t.Fatalf("cookie login over TLS: %d %v", resp.StatusCode, resp.Cookies())
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure", c.Name)
		}
	}
	// Plain HTTP to the TLS port gets no service.
	if resp, err := http.Get(p.url + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

func TestServeTLSFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, _, _ := selfSigned(t, dir)
	os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("not a key"), 0o600)
	for name, args := range map[string][]string{
		"cert without key": {"serve", "-data-dir", dir, "-tls-cert", certFile},
		"key without cert": {"serve", "-data-dir", dir, "-tls-key", certFile},
		"unreadable key":   {"serve", "-data-dir", dir, "-tls-cert", certFile, "-tls-key", filepath.Join(dir, "garbage.pem")},
		"missing file":     {"serve", "-data-dir", dir, "-tls-cert", filepath.Join(dir, "nope"), "-tls-key", certFile},
	} {
		r := jwtgate(t, dir, "", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "tls") && !strings.Contains(r.stderr, "TLS") {
			t.Errorf("%s: exit %d, %q", name, r.code, r.stderr)
		}
	}
}
