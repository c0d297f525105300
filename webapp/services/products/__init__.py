"""The five seed products as data (webapp/catalog/*.yaml, one file per manual in shared/seeds/, 000–004), loaded
and validated so a typo never reaches a customer as a wrong promise; mirrored into the products and services
tables; the numbers a customer calls for each purpose (000 （一）2.3, 003 服务热线 lines 1560 ff.) and when the
vendor's specialist first calls (000 （一）1.2 line 18, （二）1.2 line 124).
"""
