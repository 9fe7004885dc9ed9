package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

func plan(db *sql.DB, q string, args ...any) {
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		panic(err)
	}
	for rows.Next() {
		var a, b, c int
		var d string
		rows.Scan(&a, &b, &c, &d)
		fmt.Println("   ", d)
	}
	rows.Close()
}

func timeit(db *sql.DB, n int, q string, args func(i int) []any) {
	start := time.Now()
	for i := range n {
		rows, err := db.Query(q, args(i)...)
		if err != nil {
			panic(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
	fmt.Println("  per call", time.Since(start)/time.Duration(n))
}

func main() {
	db, err := sql.Open("sqlite3", "file:"+os.Args[1]+"?mode=ro")
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(1)
	var users []string
	rows, _ := db.Query("select id from users")
	for rows.Next() {
		var g string
		rows.Scan(&g)
		users = append(users, g)
	}
	rows.Close()
	groupsOf := func(i int) []any {
		var gs []string
		r, _ := db.Query("select group_id from members where member_id = ?", users[i%len(users)])
		for r.Next() {
			var g string
			r.Scan(&g)
			gs = append(gs, g)
		}
		r.Close()
		b, _ := json.Marshal(gs)
		return []any{string(b), "bench"}
	}
	for _, q := range os.Args[2:] {
		fmt.Println(q)
		plan(db, q, groupsOf(0)...)
		var argsets [][]any
		for i := range 500 {
			argsets = append(argsets, groupsOf(i))
		}
		timeit(db, 500, q, func(i int) []any { return argsets[i] })
	}
}
