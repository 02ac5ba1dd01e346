module github.com/acmedns/acmedns/test

go 1.26.0
