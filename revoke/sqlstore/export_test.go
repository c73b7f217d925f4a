package sqlstore

// CacheLen returns the number of entries in s's cache (-1: no cache).
func CacheLen(s *Store) int {
	if s.cache == nil {
		return -1
	}
	return s.cache.len()
}

// CacheQueries returns how many queries s made with its cache in use (the
// misses).
func CacheQueries(s *Store) int64 {
	if s.cache == nil {
		return -1
	}
	return s.cache.queries.Load()
}
