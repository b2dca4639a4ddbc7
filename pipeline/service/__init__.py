"""The HTTP service (`pangolin-pipeline serve`): stored and computed Pangolin scores over HTTP.

`catalog` opens the stores, `answers` turns INFO values into JSON, `compute` runs the model off
the event loop behind a bounded queue, `lookup_api` speaks SpliceAI-lookup's Pangolin API,
`app` holds our own versioned API and the page (`static/`).
"""
