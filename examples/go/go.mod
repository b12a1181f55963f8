module polytrace.example/quickstart

go 1.26
