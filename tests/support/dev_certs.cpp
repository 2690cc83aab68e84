// Placeholder so alliance_test_support builds; dev_certs.* belongs to another engineer and replaces this file.
