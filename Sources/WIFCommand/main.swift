print("wif")
