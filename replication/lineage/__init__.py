"""The lineage of replications, one job per module:

- `graph`: build the asset graph (source streams -> target assets -> downstream assets);
- `join`: join replications where one reads the table another writes;
- `select`: selectors (`+key`, `tag:x`, ...) and paths between two assets;
- `export`: the graph as JSON (the `lineage` command's document) and DOT;
- `view`: what the browser draws, folded into counted groups past a size;
- `layout`: the server's layered layout of big views.
"""
