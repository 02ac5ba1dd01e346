package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// defaultStorage is the credentials file when --storage is not given.
const defaultStorage = "acmedns-accounts.json"

// credentials is one account in the file lego and nrdcg/goacmedns read
// (goacmedns.Account): a JSON object keyed by domain.
type credentials struct {
	FullDomain string `json:"fulldomain"`
	SubDomain  string `json:"subdomain"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	ServerURL  string `json:"server_url"`
}

// loadStorage reads the file; a missing file is empty.
func loadStorage(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, err
	}
	all := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object of accounts: %v", path, err)
	}
	return all, nil
}

// lookupStorage returns the account saved for domain.
func lookupStorage(path, domain string) (credentials, error) {
	all, err := loadStorage(path)
	if err != nil {
		return credentials{}, err
	}
	raw, ok := all[domain]
	if !ok {
		return credentials{}, fmt.Errorf("no account for %s in %s: run acmedns register --domain %s first", domain, path, domain)
	}
	var c credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return credentials{}, fmt.Errorf("the account of %s in %s: %v", domain, path, err)
	}
	return c, nil
}

// checkStorage makes sure saveStorage can write path, before anything is
// registered: the file, if there is one, is a JSON object of accounts, and
// a file can be created beside it (writeAtomic's, renamed over it).
func checkStorage(path string) error {
	if _, err := loadStorage(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// saveStorage merges c under domain into the file, keeping every other
// account as it was, and replaces the file atomically with mode 0600.
func saveStorage(path, domain string, c credentials) error {
	all, err := loadStorage(path)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	all[domain] = raw
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// writeAtomic writes a temporary file beside path, syncs it and renames it
// over path, so a reader sees the old file or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
