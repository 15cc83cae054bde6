console.log("samsa");
