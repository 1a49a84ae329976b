"""The REST API (/api/v1/): one package for the whole project, the top of the layers.

`base`, `pagination`, `permissions` and `renderers` are shared; `organisation`,
`structure` and `values` hold the serializers, filters and viewsets of each layer below;
`urls` is the one router that names them.
"""
