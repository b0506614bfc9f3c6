package catalog

import (
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// Type OIDs used by catalog columns that sql/types does not (yet) name. Their
// datums follow the array convention in the package documentation: S holds
// the PostgreSQL text form.
const (
	Int2Vector   types.OID = 22   // int2vector: S = "1 2 3"
	Xid          types.OID = 28   // xid: I
	OidVector    types.OID = 30   // oidvector: S = "100 0"
	PGNodeTree   types.OID = 194  // pg_node_tree: S (always NULL in Longboat)
	Inet         types.OID = 869  // inet: S
	CharArray    types.OID = 1002 // "char"[]: S = "{d,f}"
	Aclitem      types.OID = 1033 // aclitem: S
	AclitemArray types.OID = 1034 // aclitem[]: S (always NULL in Longboat)
	Regclass     types.OID = 2205 // regclass: I holds the OID
	Regtype      types.OID = 2206 // regtype: I holds the OID
	RegtypeArray types.OID = 2211 // regtype[]: S
	AnyArray     types.OID = 2277 // anyarray pseudo-type: S
)

// Well-known OIDs. Built-in objects use PostgreSQL 15's own OIDs so that
// clients which hard-code them (JDBC's 'pg_class'::regclass, psql's
// namespace 11) keep working.
const (
	// Namespaces.
	NamespacePgCatalog         uint32 = 11
	NamespacePublic            uint32 = 2200
	NamespaceInformationSchema uint32 = 13207

	// Roles. The session user is always presented as the bootstrap
	// superuser, OID 10 ("postgres" in a stock cluster).
	RoleSuperuser       uint32 = 10
	RolePgDatabaseOwner uint32 = 6171

	// Access methods.
	AmHeap  uint32 = 2
	AmBtree uint32 = 403

	// Tablespaces.
	TablespaceDefault uint32 = 1663
	TablespaceGlobal  uint32 = 1664

	// Collations.
	CollationDefault uint32 = 100
	CollationC       uint32 = 950
	CollationPOSIX   uint32 = 951

	// B-tree operator classes used in pg_index.indclass.
	opclassTextOps        uint32 = 3126
	opclassTimestamptzOps uint32 = 3127

	// Encoding number of UTF8 in pg_database.encoding.
	EncodingUTF8 = 6
)

// OID layout of user objects. PostgreSQL hands out OIDs from 16384 upwards;
// Longboat derives them from catalog IDs so they are stable across nodes and
// restarts and never need a counter:
//
//	16384 + table.ID        the table (pg_class relkind 'r')
//	0x40000000 + table.ID   its primary-key index (pg_class relkind 'i')
//	0x50000000 + table.ID   its primary-key constraint (pg_constraint)
//	0x60000000 + db.ID      a database (pg_database)
//
// Table IDs are assumed to stay below 0x3FFFC000 (about a billion tables).
const (
	FirstUserOID      uint32 = 16384
	indexOIDBase      uint32 = 0x40000000
	constraintOIDBase uint32 = 0x50000000
	databaseOIDBase   uint32 = 0x60000000
)

// TableOID returns the stable pg_class OID of a user table.
func TableOID(t *shard.Table) uint32 { return FirstUserOID + t.ID }

// IndexOID returns the pg_class OID of a table's primary-key index.
func IndexOID(t *shard.Table) uint32 { return indexOIDBase + t.ID }

// ConstraintOID returns the pg_constraint OID of a table's primary key.
func ConstraintOID(t *shard.Table) uint32 { return constraintOIDBase + t.ID }

// DatabaseOID returns the stable pg_database OID of a database.
func DatabaseOID(d *shard.Database) uint32 { return databaseOIDBase + d.ID }

// oidKind classifies a user-object OID by the layout above.
type oidKind uint8

const (
	oidOther oidKind = iota
	oidTable
	oidIndex
	oidConstraint
	oidDatabase
)

// classifyOID splits a user-object OID into its kind and catalog ID.
func classifyOID(oid uint32) (oidKind, uint32) {
	switch {
	case oid >= databaseOIDBase:
		return oidDatabase, oid - databaseOIDBase
	case oid >= constraintOIDBase:
		return oidConstraint, oid - constraintOIDBase
	case oid >= indexOIDBase:
		return oidIndex, oid - indexOIDBase
	case oid >= FirstUserOID:
		return oidTable, oid - FirstUserOID
	}
	return oidOther, 0
}
