// Package csaf is focal's CSAF 2.0 (OASIS Common Security Advisory
// Framework) format package: the advisory model a handler fills in a form
// (Advisory), the CVSS v3.1 base score calculator, generation of the CSAF
// 2.0 JSON document from the model, import of existing CSAF documents
// into the model, validation (the CSAF JSON schema through
// github.com/gocsaf/csaf/v3 plus the mandatory tests the model can
// break), file names after the spec's rule, and the team key's detached
// OpenPGP signatures. It imports nothing internal but the domain package;
// the trusted provider that serves the documents lives in
// internal/csaf/provider.
package csaf
